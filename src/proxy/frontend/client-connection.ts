import type net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { TimerSet } from '../clock.js';

const KEEPALIVE_DELAY_MS = 30_000;
/** How long a socket may linger after the router said its last word (FATAL sent, or peer gone). */
const LINGER_MS = 2_000;
const LINGER_HARD_LIMIT_MS = 30_000;
/** PostgreSQL's PQ_SEND_BUFFER_SIZE: the largest TLS record a member sends, and what libpq clients expect. */
const POSTGRES_SEND_BUFFER_BYTES = 8192;

export interface ClientEvents {
  /** The client sent its FIN. */
  end(): void;
  close(): void;
  error(err: Error): void;
}

/**
 * The client's side of a session: the TCP socket, and the TLS stream over it once the router
 * terminates TLS. Everything the session writes to the client goes through `stream`.
 */
export class ClientConnection {
  /** The raw socket, or the TLS stream over it. */
  stream: Duplex;
  private peer: string | undefined;

  constructor(
    readonly raw: net.Socket,
    private readonly events: ClientEvents,
  ) {
    this.stream = raw;
  }

  /**
   * `host:port` of the client, read on first use (a getpeername each): connections that are
   * refused, cancel requests and quiet sessions never need it. Read it while the socket is
   * open; once destroyed node no longer knows it.
   */
  get address(): string {
    this.peer ??= `${this.raw.remoteAddress ?? '?'}:${this.raw.remotePort ?? '?'}`;
    return this.peer;
  }

  start(): void {
    this.raw.setNoDelay(true);
    this.raw.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    this.raw.on('error', (err) => this.events.error(err));
    this.raw.on('close', () => this.events.close());
    this.raw.on('end', () => this.events.end());
  }

  /** Terminates TLS on this connection; the handshake runs as bytes arrive. */
  upgrade(context: tls.SecureContext): void {
    const secure = new tls.TLSSocket(this.raw, { isServer: true, secureContext: context, ALPNProtocols: ['postgresql'] });
    // TLS records no larger than PostgreSQL's own (its 8 kB send buffer): libpq used asynchronously
    // (psycopg 3) reads 8 kB at a time and then waits on the socket, so the rest of a 16 kB record
    // sits decrypted in OpenSSL, the socket never becomes readable again, and the client hangs.
    secure.setMaxSendFragment(POSTGRES_SEND_BUFFER_BYTES);
    secure.on('error', (err) => this.events.error(err));
    secure.on('end', () => this.events.end());
    this.stream = secure;
  }

  /** Puts bytes back in front of the stream, for the TLS handshake to read (direct TLS). */
  unshift(bytes: Buffer): void {
    this.raw.unshift(bytes);
  }

  /** The client's TLS ends here (the router holds the certificate). */
  get tlsTerminated(): boolean {
    return this.stream !== this.raw;
  }

  write(bytes: Buffer): void {
    this.stream.write(bytes);
  }

  /**
   * The router's last word: `bytes` (a FATAL), or none when the peer's end is passed on. The
   * stream keeps being read and discarded so unread input does not turn the close into a
   * reset; `done` runs once the bytes are flushed plus a short grace for the client to read
   * them, or after a hard limit for a client that never reads.
   */
  sayGoodbye(bytes: Buffer | undefined, timers: TimerSet, done: () => void): void {
    this.stream.unpipe();
    this.stream.resume();
    if (bytes === undefined) this.stream.end();
    else this.stream.end(bytes);
    timers.after(LINGER_HARD_LIMIT_MS, done);
    if (this.stream.writableFinished) timers.after(LINGER_MS, done);
    else this.stream.once('finish', () => timers.after(LINGER_MS, done));
  }

  destroy(): void {
    this.stream.destroy();
    this.raw.destroy();
  }
}
