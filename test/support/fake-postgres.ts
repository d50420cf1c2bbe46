/**
 * An in-process PostgreSQL stand-in on a loopback port that speaks the real messages: enough
 * of the protocol (SSL answer, startup, trust or cleartext auth, simple queries, a lone Sync, cancel,
 * Terminate) for the session's unit tests. Integration tests use real servers.
 */
import net from 'node:net';
import { FrameReader } from '../../src/wire/frame-reader.js';
import { readFirstPacket } from '../../src/wire/first-packet.js';
import { AuthCode, FrontendCode, TransactionStatus } from '../../src/wire/message-codes.js';
import { authentication, authenticationOk, backendKeyData, errorResponse, negotiationAnswer, parameterStatus, readyForQuery } from '../../src/wire/serializer.js';
import type { StartupParams } from '../../src/wire/startup-params.js';
import { commandComplete, dataRow, rowDescription } from './test-buffers.js';

export interface FakePostgresOptions {
  inHotStandby?: boolean;
  /** Answer an SSLRequest with S (then only record what arrives), as a member with `ssl = on`; default N. */
  acceptSsl?: boolean;
  /** Accept connections and never say a word (a member that hangs). */
  silent?: boolean;
  /** Ask for a cleartext password (and check it) instead of trusting everyone. */
  password?: string;
  /** Ask for an md5 password and take any answer: without an auth_query the router learns nothing it could log in again with. */
  md5?: boolean;
  /** Answer every startup with this error (e.g. 57P03 "the database system is starting up"). */
  refuseStartup?: { code: string; message: string };
}

interface Backend {
  processId: number;
  secret: Buffer;
  socket: net.Socket;
  /** A query waiting for a cancel (`SELECT pg_sleep(...)`). */
  sleeping?: () => void;
}

let nextProcessId = 1000;

export class FakePostgres {
  readonly startups: StartupParams[] = [];
  readonly queries: string[] = [];
  readonly cancels: Array<{ processId: number; secret: Buffer }> = [];
  /** SSLRequests received (answered N, or S with acceptSsl). */
  sslRequests = 0;
  /** Bytes received after answering S (the client's TLS handshake, passed through). */
  readonly afterSsl: Buffer[] = [];
  private readonly backends = new Set<Backend>();
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private options: FakePostgresOptions,
  ) {}

  static start(options: FakePostgresOptions = {}): Promise<FakePostgres> {
    return new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        const address = server.address() as net.AddressInfo;
        const fake = new FakePostgres(server, address.port, options);
        server.on('connection', (socket) => fake.accept(socket));
        resolve(fake);
      });
    });
  }

  /** Changes how new connections are answered (a member that starts up, or goes into recovery). */
  configure(options: FakePostgresOptions): void {
    this.options = options;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    if (this.options.silent === true) return;
    let pending: Buffer = Buffer.alloc(0);
    const onFirst = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      const read = readFirstPacket(pending, { allowDirectTls: false });
      if (read.status === 'incomplete') return;
      if (read.status === 'invalid') return void socket.destroy();
      pending = pending.subarray(read.consumed);
      const packet = read.packet;
      if (packet.kind === 'ssl-request' || packet.kind === 'gssenc-request') {
        this.sslRequests++;
        if (packet.kind === 'ssl-request' && this.options.acceptSsl === true) {
          socket.removeListener('data', onFirst);
          socket.on('data', (c: Buffer) => this.afterSsl.push(c));
          socket.write(negotiationAnswer(true));
          return;
        }
        socket.write(negotiationAnswer(false));
        return;
      }
      socket.removeListener('data', onFirst);
      if (packet.kind === 'cancel-request') {
        this.cancels.push({ processId: packet.processId, secret: packet.secret });
        for (const b of this.backends) if (b.processId === packet.processId && b.secret.equals(packet.secret)) b.sleeping?.();
        socket.end();
        return;
      }
      if (packet.kind !== 'startup') return void socket.destroy();
      this.startups.push(packet.params);
      this.startup(socket, pending);
    };
    socket.on('data', onFirst);
  }

  private startup(socket: net.Socket, rest: Buffer): void {
    const { refuseStartup, password, md5, inHotStandby } = this.options;
    if (refuseStartup !== undefined) {
      socket.end(errorResponse({ severity: 'FATAL', ...refuseStartup }));
      return;
    }
    const backend: Backend = { processId: nextProcessId++, secret: Buffer.from([1, 2, 3, 4]), socket };
    const welcome = (): void => {
      this.backends.add(backend);
      socket.on('close', () => this.backends.delete(backend));
      socket.write(
        Buffer.concat([
          authenticationOk(),
          parameterStatus('server_version', '15.0 (fake)'),
          parameterStatus('in_hot_standby', inHotStandby === true ? 'on' : 'off'),
          backendKeyData(backend.processId, backend.secret),
          readyForQuery(TransactionStatus.Idle),
        ]),
      );
    };
    const reader = new FrameReader();
    let authenticated = password === undefined && md5 !== true;
    if (authenticated) welcome();
    else if (md5 === true) socket.write(authentication(AuthCode.MD5Password, Buffer.from([1, 2, 3, 4])));
    else socket.write(authentication(AuthCode.CleartextPassword));
    const onData = (chunk: Buffer): void => {
      reader.push(chunk);
      for (let f = reader.next(); f !== undefined; f = reader.next()) {
        if (!authenticated) {
          if (f.code !== FrontendCode.Password || (md5 !== true && f.body.toString('utf8', 0, f.body.length - 1) !== password)) {
            socket.end(errorResponse({ severity: 'FATAL', code: '28P01', message: 'password authentication failed' }));
            return;
          }
          authenticated = true;
          welcome();
        } else if (f.code === FrontendCode.Query) this.query(backend, f.body.toString('utf8', 0, f.body.length - 1));
        // A lone Sync (a moved session's restore ends with one) is answered as PostgreSQL does.
        else if (f.code === FrontendCode.Sync) socket.write(readyForQuery(TransactionStatus.Idle));
        else if (f.code === FrontendCode.Terminate) socket.end();
      }
    };
    socket.on('data', onData);
    if (rest.length > 0) onData(rest);
  }

  /** `SELECT pg_sleep(...)` waits for a cancel; `pg_is_in_recovery()` says t in hot standby; anything else returns one row with the text. */
  private query(backend: Backend, text: string): void {
    this.queries.push(text);
    const { socket } = backend;
    if (/pg_sleep/i.test(text)) {
      backend.sleeping = () => {
        backend.sleeping = undefined;
        socket.write(
          Buffer.concat([errorResponse({ severity: 'ERROR', code: '57014', message: 'canceling statement due to user request' }), readyForQuery(TransactionStatus.Idle)]),
        );
      };
      return;
    }
    // The router asks a member it moves a session to whether it is writable.
    if (/pg_is_in_recovery\(\)/i.test(text)) {
      const inRecovery = this.options.inHotStandby === true ? 't' : 'f';
      socket.write(Buffer.concat([rowDescription(['pg_is_in_recovery']), dataRow([inRecovery]), commandComplete('SELECT 1'), readyForQuery(TransactionStatus.Idle)]));
      return;
    }
    socket.write(Buffer.concat([rowDescription(['echo']), dataRow([text]), commandComplete('SELECT 1'), readyForQuery(TransactionStatus.Idle)]));
  }
}
