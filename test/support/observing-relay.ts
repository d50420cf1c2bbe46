import net from 'node:net';
import tls from 'node:tls';
import { mechanismsWithoutChannelBinding } from '../../src/proxy/backend/auth/channel-binding.js';
import { ScramObserver } from '../../src/proxy/backend/auth/scram-observer.js';
import { parseAuthRequest } from '../../src/wire/auth-request.js';
import { readFirstPacket } from '../../src/wire/first-packet.js';
import { FrameReader, type Frame } from '../../src/wire/frame-reader.js';
import { AuthCode, BackendCode, NegotiationAnswer } from '../../src/wire/message-codes.js';
import { authCodeOf } from '../../src/wire/parser.js';
import { authenticationSasl, negotiationAnswer } from '../../src/wire/serializer.js';

export interface RelayedSession {
  observer: ScramObserver;
  /** Resolves once both sides closed. */
  closed: Promise<void>;
}

/**
 * A tiny stand-in for the router's relay: passes a client's startup and login through to one
 * PostgreSQL server unchanged, except that SCRAM-SHA-256-PLUS is removed from the mechanism list,
 * and feeds every message in both directions to a ScramObserver. With `tls`, it terminates the
 * client's TLS (answering SSLRequest with its own certificate) and opens TLS to the server, as
 * the router does with `tls.cert` and `tls.backend.mode: require`.
 */
export class ObservingRelay {
  readonly sessions: RelayedSession[] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly upstreamPort: number,
    private readonly tlsFiles: { cert: Buffer; key: Buffer } | undefined,
  ) {
    this.server = net.createServer((client) => {
      this.sockets.add(client);
      this.relay(client).catch(() => client.destroy());
    });
  }

  static async start(upstreamPort: number, tlsFiles?: { cert: Buffer; key: Buffer }): Promise<{ relay: ObservingRelay; port: number }> {
    const relay = new ObservingRelay(upstreamPort, tlsFiles);
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    const address = relay.server.address();
    return { relay, port: typeof address === 'object' && address ? address.port : 0 };
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async relay(plainClient: net.Socket): Promise<void> {
    let clientFirst = await readStartupPacket(plainClient);
    let upstream: net.Socket = net.connect({ host: '127.0.0.1', port: this.upstreamPort });
    this.sockets.add(upstream);
    await new Promise<void>((resolve, reject) => upstream.once('connect', resolve).once('error', reject));
    let client: net.Socket = plainClient;
    if (isSslRequest(clientFirst.packet)) {
      if (!this.tlsFiles) {
        plainClient.write(negotiationAnswer(false));
      } else {
        plainClient.write(negotiationAnswer(true));
        client = new tls.TLSSocket(plainClient, { isServer: true, cert: this.tlsFiles.cert, key: this.tlsFiles.key });
        upstream.write(clientFirst.packet);
        const answer = await readBytes(upstream, 1);
        if (answer[0] !== NegotiationAnswer.Accept) throw new Error('the server does not do TLS');
        upstream = tls.connect({ socket: upstream, rejectUnauthorized: false });
        await new Promise<void>((resolve, reject) => upstream.once('secureConnect', resolve).once('error', reject));
        this.sockets.add(upstream);
      }
      clientFirst = await readStartupPacket(client);
    }
    const observer = new ScramObserver();
    let closedCount = 0;
    let markClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const onClose = (): void => {
      if (++closedCount === 2) markClosed();
    };
    this.sessions.push({ observer, closed });
    upstream.write(clientFirst.packet);
    pipeFrames(
      upstream,
      client,
      (frame) => {
        observer.fromServer(frame);
        return forwardedServerFrame(frame);
      },
      onClose,
    );
    pipeFrames(
      client,
      upstream,
      (frame) => {
        observer.fromClient(frame);
        return frame.raw;
      },
      onClose,
    );
  }
}

function isSslRequest(packet: Buffer): boolean {
  const read = readFirstPacket(packet);
  return read.status === 'complete' && read.packet.kind === 'ssl-request';
}

/** The server's message as the client gets it: the SASL offer without -PLUS, anything else as is. */
function forwardedServerFrame(frame: Frame): Buffer {
  if (frame.code === BackendCode.Authentication && authCodeOf(frame.body) === AuthCode.SASL) {
    const request = parseAuthRequest(frame.body);
    if (request.kind === 'sasl') return authenticationSasl(mechanismsWithoutChannelBinding(request.mechanisms));
  }
  return frame.raw;
}

function pipeFrames(from: net.Socket, to: net.Socket, forward: (frame: Frame) => Buffer, onClose: () => void): void {
  const reader = new FrameReader(64 << 20);
  from.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    for (let frame = reader.next(); frame; frame = reader.next()) to.write(forward(frame));
  });
  // readBytes() paused it explicitly; a new 'data' listener alone would not resume it.
  from.resume();
  from.on('close', () => {
    to.destroy();
    onClose();
  });
  from.on('error', () => undefined);
}

function readBytes(socket: net.Socket, count: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < count) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      if (buffered.length > count) socket.unshift(buffered.subarray(count));
      resolve(buffered.subarray(0, count));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.resume();
  });
}

/** The first packet: an int32 length that counts itself, then the rest. Later bytes stay in the socket. */
async function readStartupPacket(socket: net.Socket): Promise<{ packet: Buffer }> {
  const head = await readBytes(socket, 4);
  const body = await readBytes(socket, head.readInt32BE(0) - 4);
  return { packet: Buffer.concat([head, body]) };
}
