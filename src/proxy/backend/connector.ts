import net from 'node:net';
import tls from 'node:tls';
import type { BackendTlsMode } from '../../config/types.js';
import { NegotiationAnswer } from '../../wire/message-codes.js';
import { sslRequest } from '../../wire/serializer.js';
import { memberReadOptions } from './member-reads.js';

export interface BackendAddress {
  host: string;
  port: number;
}

export interface BackendTls {
  mode: BackendTlsMode;
  /** PEM text of the CA for verify-full. */
  ca?: string;
}

/** Why a backend could not be reached; `retryable` = another candidate, or a later try, may work. */
export class BackendConnectError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/**
 * Opens connections to members. Passed into the proxy, so a test can put a fake in its place.
 * Sockets come back paused: the caller resumes them once its listeners are attached, so no
 * byte is read before someone is there to take it.
 */
export interface BackendConnector {
  /** TCP plus the configured TLS mode: for sessions whose startup the router reads. */
  connect(address: BackendAddress, timeoutMs: number): Promise<net.Socket>;
  /** Plain TCP: for TLS passed through untouched (a direct-TLS ClientHello). */
  connectRaw(address: BackendAddress, timeoutMs: number): Promise<net.Socket>;
  /**
   * TCP, then the client's SSLRequest on its behalf: `accepted` says whether the member
   * answered S (the client's TLS then passes through) or N (it does not do TLS).
   */
  connectForTls(address: BackendAddress, timeoutMs: number): Promise<{ socket: net.Socket; accepted: boolean }>;
}

export function memberConnector(settings: BackendTls): BackendConnector {
  return {
    connect: (address, timeoutMs) => connectBackend(address, settings, timeoutMs),
    connectRaw: (address, timeoutMs) => connectTcp(address, timeoutMs),
    connectForTls: (address, timeoutMs) => connectForTls(address, timeoutMs),
  };
}

export async function connectForTls(address: BackendAddress, timeoutMs: number): Promise<{ socket: net.Socket; accepted: boolean }> {
  const socket = await connectTcp(address, timeoutMs);
  const guard = (): void => {};
  socket.on('error', guard);
  socket.write(sslRequest());
  try {
    const answer = await readSslAnswer(socket, timeoutMs);
    if (answer !== NegotiationAnswer.Accept && answer !== NegotiationAnswer.Refuse) throw new BackendConnectError(`backend answered the SSLRequest with byte ${answer}`, true);
    return { socket, accepted: answer === NegotiationAnswer.Accept };
  } catch (err) {
    socket.destroy();
    throw err;
  } finally {
    socket.removeListener('error', guard);
  }
}

/** Idle time before TCP keepalive probes on a member socket. */
const MEMBER_KEEPALIVE_DELAY_MS = 30_000;

/**
 * Opens a TCP connection within `timeoutMs`; refused or timed out connections are retryable.
 * Its reads go through MemberReads (a relay may claim them); wrapped in TLS, TLS reads them.
 */
export function connectTcp(address: BackendAddress, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const reads = memberReadOptions();
    // Every member socket, whatever opens it (a session's startup, a replica link, a move, a login ahead):
    // small messages go out at once, and a member that vanished without a FIN is found.
    const socket = net.connect({
      host: address.host,
      port: address.port,
      allowHalfOpen: true,
      onread: reads.onread,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: MEMBER_KEEPALIVE_DELAY_MS,
    });
    reads.register(socket);
    socket.pause();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new BackendConnectError(`connect to ${address.host}:${address.port} timed out after ${timeoutMs} ms`, true));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new BackendConnectError(`connect to ${address.host}:${address.port} failed: ${err.code ?? err.message}`, true));
    };
    socket.once('error', onError);
  });
}

/** Reads exactly one byte (the SSLRequest answer); extra bytes mean a buffer-stuffing attack. */
function readSslAnswer(socket: net.Socket, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onFail);
      socket.removeListener('end', onFail);
      // Paused again: nothing more may be read until the next owner is listening.
      socket.pause();
    };
    const onData = (chunk: Buffer): void => {
      done();
      if (chunk.length !== 1) reject(new BackendConnectError('backend sent unexpected data after its SSL answer', false));
      else resolve(chunk[0] as number);
    };
    const onFail = (): void => {
      done();
      reject(new BackendConnectError('backend closed the connection during SSL negotiation', true));
    };
    const timer = setTimeout(() => {
      done();
      reject(new BackendConnectError(`backend did not answer the SSLRequest within ${timeoutMs} ms`, true));
    }, timeoutMs);
    socket.on('data', onData);
    socket.once('error', onFail);
    socket.once('end', onFail);
    socket.resume();
  });
}

function upgrade(socket: net.Socket, address: BackendAddress, settings: BackendTls, timeoutMs: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const verify = settings.mode === 'verify-full';
    const isIp = net.isIP(address.host) !== 0;
    const secure = tls.connect({
      socket,
      rejectUnauthorized: verify,
      ...(verify && settings.ca !== undefined ? { ca: settings.ca } : {}),
      ...(isIp ? {} : { servername: address.host }),
      checkServerIdentity: (_name, cert) => (verify ? tls.checkServerIdentity(address.host, cert) : undefined),
    });
    const timer = setTimeout(() => {
      secure.destroy();
      reject(new BackendConnectError(`TLS handshake with ${address.host}:${address.port} timed out`, true));
    }, timeoutMs);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      secure.removeListener('error', onError);
      secure.pause();
      resolve(secure);
    });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      secure.destroy();
      reject(new BackendConnectError(`TLS to ${address.host}:${address.port} failed: ${err.message}`, false));
    };
    secure.once('error', onError);
  });
}

/** Connects to a backend and applies the configured TLS mode (libpq's sslmode words). */
export async function connectBackend(address: BackendAddress, settings: BackendTls, timeoutMs: number): Promise<net.Socket> {
  const socket = await connectTcp(address, timeoutMs);
  if (settings.mode === 'disable') return socket;
  // Until the relay attaches its own handler, an error here must not crash the process. When the
  // socket is wrapped in TLS the wrapper reports errors; the raw socket keeps this no-op handler.
  const guard = (): void => {};
  socket.on('error', guard);
  socket.write(sslRequest());
  let answer: number;
  try {
    answer = await readSslAnswer(socket, timeoutMs);
  } catch (err) {
    socket.destroy();
    throw err;
  }
  if (answer === NegotiationAnswer.Accept) return upgrade(socket, address, settings, timeoutMs);
  socket.removeListener('error', guard);
  if (answer === NegotiationAnswer.Refuse && settings.mode === 'prefer') return socket;
  socket.destroy();
  throw new BackendConnectError(`backend ${address.host}:${address.port} does not accept TLS (backend tls mode ${settings.mode})`, false);
}
