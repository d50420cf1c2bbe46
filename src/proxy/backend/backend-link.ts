import type net from 'node:net';
import type { Member } from '../../topology/cluster-state.js';
import { BackendCode } from '../../wire/message-codes.js';
import { parseDataRow, parseError } from '../../wire/parser.js';
import { query, terminate } from '../../wire/serializer.js';
import type { StartupParams } from '../../wire/startup-params.js';
import { performBackendHandshake, type BackendHandshake } from './auth/backend-handshake.js';
import type { SessionSecret } from './auth/session-secret.js';
import type { BackendConnector } from './connector.js';
import type { ServerMessages } from './message-stream.js';

export interface LinkOptions {
  connector: BackendConnector;
  /** The session's startup parameters as its first member got them: the link is the same session elsewhere. */
  parameters: StartupParams;
  secret: SessionSecret;
  /** Connect and log in within this. */
  timeoutMs: number;
}

/** A link's own answer to one of the router's simple queries. */
export interface LinkQueryResult {
  rows: Array<Array<string | null>>;
  error?: { code?: string; message?: string };
}

/**
 * One more authenticated connection of a session to a member, logged in as the session's user
 * with what the session learned (SCRAM ClientKey, md5 hash, trust, password): the same session
 * elsewhere, for the read/write split or after a switchover. PostgreSQL judges this login too.
 */
export class BackendLink {
  private closed = false;

  private constructor(
    readonly member: Member,
    readonly socket: net.Socket,
    private readonly handshake: BackendHandshake,
    /** ms the connect and login took. */
    readonly openedInMs: number,
  ) {}

  static async open(member: Member, options: LinkOptions): Promise<BackendLink> {
    if (member.host === undefined || member.port === undefined) throw new Error(`member ${member.name} has no address`);
    const startedAt = performance.now();
    const socket = await options.connector.connect({ host: member.host, port: member.port }, options.timeoutMs);
    const user = options.parameters['user'] ?? '';
    const handshake = await performBackendHandshake(socket, {
      parameters: { ...options.parameters },
      secret: options.secret,
      timeoutMs: options.timeoutMs,
      who: `link to ${member.name} as "${user}"`,
    });
    return new BackendLink(member, socket, handshake, performance.now() - startedAt);
  }

  /** What the member said at the login (server_version, in_hot_standby, ...). */
  get parameters(): ReadonlyMap<string, string> {
    return this.handshake.parameters;
  }

  /** The member's own cancel key for this link. */
  get cancelKey(): BackendHandshake['backendKey'] {
    return this.handshake.backendKey;
  }

  /** The stream of the member's messages, for whoever relays this link from now on. */
  get messages(): ServerMessages {
    return this.handshake.messages;
  }

  /**
   * One simple query of the router's own, read to ReadyForQuery (rows as text). Each message is
   * let go of once read: a link polled for hours (replay positions) must not keep every frame.
   */
  async query(text: string): Promise<LinkQueryResult> {
    this.socket.write(query(text));
    const result: LinkQueryResult = { rows: [] };
    for (;;) {
      const frame = await this.messages.next();
      try {
        if (frame.code === BackendCode.DataRow) {
          const row = parseDataRow(frame.body);
          if ('error' in row) throw new Error(`link to ${this.member.name}: ${row.error}`);
          result.rows.push(row.columns.map((c) => (c === null ? null : c.toString('utf8'))));
        } else if (frame.code === BackendCode.ErrorResponse) {
          const { code, message } = parseError(frame.body);
          result.error = { ...(code !== undefined ? { code } : {}), ...(message !== undefined ? { message } : {}) };
        } else if (frame.code === BackendCode.ReadyForQuery) return result;
      } finally {
        this.messages.wipeRead();
      }
    }
  }

  /**
   * Why the member cannot take writes, asked on this link (`pg_is_in_recovery()`); undefined
   * when it can. A failed question is a reason too: only a clear "not in recovery" clears it.
   */
  async recoveryReason(): Promise<string | undefined> {
    const recovery = await this.query('SELECT pg_catalog.pg_is_in_recovery()').catch((error: unknown) => ({
      rows: [],
      error: { message: error instanceof Error ? error.message : String(error) },
    }));
    if (recovery.error !== undefined) return `could not say whether it is in recovery: ${recovery.error.message ?? 'no message'}`;
    return recovery.rows[0]?.[0] === 'f' ? undefined : 'is in recovery (read-only)';
  }

  /**
   * Hands the connection over to whoever relays it from now on: the socket, and what the member
   * already sent past the login. The link's own reader lets go.
   */
  release(): { socket: net.Socket; rest: Buffer } {
    const rest = this.messages.release();
    return { socket: this.socket, rest };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.messages.release();
    if (!this.socket.destroyed) this.socket.end(terminate());
  }
}
