import type { Duplex } from 'node:stream';
import { BackendCode, codeLetter } from '../../../wire/message-codes.js';
import { parseDataRow, parseError, type ServerError } from '../../../wire/parser.js';
import { bind, execute, parse, sync, terminate } from '../../../wire/serializer.js';
import { ConnectionClosed, type ServerMessages } from '../message-stream.js';
import { AuthQueryAnswerError, authQueryText, NAME_TYPE_OID, readAuthQueryRows, type AuthQueryResult, type TextRow } from './auth-query.js';
import { DEFAULT_AUTH_SCHEMA } from './auth-setup.js';
import { HandshakeError, performBackendHandshake } from './backend-handshake.js';
import type { PasswordSessionSecret, TrustSessionSecret } from './session-secret.js';
import { checkedName } from './sql-identifier.js';

export interface AuthQueryClientOptions {
  /** The role the router logs in as (authSetupSql's auth role). */
  authRole: string;
  /** Its password (answers md5 or SCRAM, whichever the server asks), or trust. */
  secret: PasswordSessionSecret | TrustSessionSecret;
  /** The database where authSetupSql ran. */
  database: string;
  schema?: string;
  /** Bounds the login and every lookup. */
  timeoutMs: number;
  applicationName?: string;
}

/** What a server may send around the rows of a lookup; the lookup needs none of it. */
const PASSED_OVER = new Set<number>([
  BackendCode.ParseComplete,
  BackendCode.BindComplete,
  BackendCode.CloseComplete,
  BackendCode.CommandComplete,
  BackendCode.NoticeResponse,
  BackendCode.ParameterStatus,
  BackendCode.NotificationResponse,
  BackendCode.NoData,
]);

export type AuthQueryFailure = 'login' | 'query' | 'timeout' | 'closed' | 'protocol';

/** Names the auth role and what failed; never its password, nor a user's secret. */
export class AuthQueryError extends Error {
  constructor(
    readonly reason: AuthQueryFailure,
    message: string,
    readonly sqlstate?: string,
  ) {
    super(message);
  }
}

/**
 * The router's own connection to the primary for the auth query: logs in as the auth role, then
 * answers lookups one at a time with Parse/Bind/Execute/Sync, the user name as a `name`
 * parameter. The query text and the startup parameters are fixed; no client value reaches
 * either except as that one parameter.
 *
 * The answers are read with the router's own parser rather than pg-protocol's, which turns every
 * column into a JavaScript string: a rolpassword (an md5 hash is password-equivalent) must stay
 * in buffers that can be wiped.
 */
export class AuthQueryClient {
  private queue: Promise<unknown> = Promise.resolve();
  private broken: AuthQueryError | undefined;
  private readonly who: string;
  private readonly queryText: string;

  private constructor(
    private readonly stream: Duplex,
    private readonly messages: ServerMessages,
    private readonly options: AuthQueryClientOptions,
  ) {
    this.who = `auth_query as role "${options.authRole}"`;
    this.queryText = authQueryText(options.schema ?? DEFAULT_AUTH_SCHEMA);
    // A member that restarts (a switchover demotes the old primary) closes its end: let go of
    // ours at once (the connector's sockets are half-open capable, so nothing else would), and
    // be unusable, so the next login opens a new connection instead of failing on this one.
    const gone = (): void => {
      this.broken ??= new AuthQueryError('closed', `${this.who}: the server closed the connection`);
      if (!this.stream.destroyed) this.stream.destroy();
    };
    stream.once('end', gone);
    stream.once('close', gone);
  }

  /** Logs in on a connected stream to the primary. On failure the stream is destroyed. */
  static async connect(stream: Duplex, options: AuthQueryClientOptions): Promise<AuthQueryClient> {
    checkedName(options.schema ?? DEFAULT_AUTH_SCHEMA, 'schema');
    const who = `auth_query as role "${options.authRole}"`;
    try {
      const handshake = await performBackendHandshake(stream, {
        parameters: {
          user: options.authRole,
          database: options.database,
          application_name: options.applicationName ?? 'patroni-router auth_query',
        },
        secret: options.secret,
        timeoutMs: options.timeoutMs,
        who,
      });
      return new AuthQueryClient(stream, handshake.messages, options);
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      const reason: AuthQueryFailure = error.reason === 'timeout' ? 'timeout' : error.reason === 'closed' ? 'closed' : 'login';
      throw new AuthQueryError(reason, error.message, error.sqlstate);
    }
  }

  /** False once the connection failed or timed out: open a new one. */
  get usable(): boolean {
    return this.broken === undefined;
  }

  /** What the auth query says about `user`. The caller owns the secret and wipes it. */
  lookup(user: string): Promise<AuthQueryResult> {
    const run = this.queue.then(() => this.runLookup(user));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Terminate, then end the stream. */
  close(): void {
    this.broken ??= new AuthQueryError('closed', `${this.who}: the connection was closed`);
    this.messages.release();
    if (!this.stream.destroyed) this.stream.end(terminate());
  }

  private async runLookup(user: string): Promise<AuthQueryResult> {
    if (this.broken) throw this.broken;
    if (user.includes('\0')) return { usable: false, user, reason: 'not-found', detail: 'a role name cannot contain a NUL byte' };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.stream.destroy();
    }, this.options.timeoutMs);
    const rows: TextRow[] = [];
    try {
      this.stream.write(Buffer.concat([parse(this.queryText, [NAME_TYPE_OID]), bind([user]), execute(), sync()]));
      let serverError: ServerError | undefined;
      for (;;) {
        const frame = await this.messages.next();
        if (frame.code === BackendCode.DataRow) rows.push(readDataRow(frame.body));
        else if (frame.code === BackendCode.ErrorResponse) serverError = parseError(frame.body);
        else if (frame.code === BackendCode.ReadyForQuery) break;
        else if (!PASSED_OVER.has(frame.code)) throw new AuthQueryError('protocol', `${this.who}: unexpected message '${codeLetter(frame.code)}'`);
        this.messages.wipeRead();
      }
      this.messages.wipeRead();
      clearTimeout(timer);
      if (serverError) {
        // The connection is still in sync (the server answered Sync): only this lookup failed.
        const { code = '', message = '' } = serverError;
        throw new AuthQueryError('query', `${this.who}: the auth query failed: ${code} ${message}`, code);
      }
      try {
        return readAuthQueryRows(user, rows);
      } catch (error) {
        if (!(error instanceof AuthQueryAnswerError)) throw error;
        throw new AuthQueryError('query', `${this.who}: ${error.message}`);
      }
    } catch (error) {
      clearTimeout(timer);
      throw this.failure(error, timedOut);
    } finally {
      for (const row of rows) for (const field of row) field?.fill(0);
    }
  }

  private failure(error: unknown, timedOut: boolean): Error {
    if (error instanceof AuthQueryError && error.reason === 'query') return error;
    let failure: AuthQueryError;
    if (timedOut) failure = new AuthQueryError('timeout', `${this.who}: no answer within ${this.options.timeoutMs} ms`);
    else if (error instanceof AuthQueryError) failure = error;
    else if (error instanceof ConnectionClosed) failure = new AuthQueryError('closed', `${this.who}: ${error.message}`);
    else if (error instanceof AuthQueryAnswerError) failure = new AuthQueryError('protocol', `${this.who}: ${error.message}`);
    else failure = new AuthQueryError('protocol', `${this.who}: ${(error as Error).message}`);
    // Out of step with the server (or gone): nothing more can be asked on this connection.
    this.broken = failure;
    this.stream.destroy();
    return failure;
  }
}

/** A DataRow in text format: each column copied into its own buffer (the frame is wiped after). */
function readDataRow(body: Buffer): TextRow {
  const row = parseDataRow(body);
  if ('error' in row) throw new AuthQueryAnswerError(row.error);
  return row.columns;
}
