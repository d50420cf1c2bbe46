import net from 'node:net';
import type { Duplex } from 'node:stream';
import { endsWithTerminate } from '../../src/wire/parser.js';
import { IdleTracker } from '../../src/proxy/idle-tracker.js';
import type { RelayShape } from './relay-shape.js';

/**
 * Reads of one member socket into one buffer of its own, reused read after read, through the
 * public `onread` option of net.connect: no ArrayBuffer is allocated (malloc'd, then shrunk)
 * per read and no Readable push/emit runs. The buffer is given away only when a write to the
 * client could not complete at once (it then still refers to those bytes) and a fresh one takes
 * its place. Node offers `onread` to connecting sockets only, not to the ones a server accepts,
 * so the client-to-member direction stays on 'data' events.
 */
export class MemberReader {
  /** 16 KiB: a read per 16 KiB of a large result, and little memory per idle session. */
  static readonly SIZE = 16 * 1024;
  private current: Buffer | undefined;
  consumer: ((chunk: Buffer) => boolean) | undefined;

  /** The buffer the next read lands in, made on the first read (idle sessions keep none). */
  buffer(): Buffer {
    this.current ??= Buffer.allocUnsafe(MemberReader.SIZE);
    return this.current;
  }

  /** Whatever referred to the current buffer keeps it; reads go to a new one. */
  giveAway(): void {
    this.current = undefined;
  }

  onRead(bytes: number, buffer: Buffer): boolean {
    // Before a consumer is set nothing may be read; the socket starts paused (see connect).
    return this.consumer?.(buffer.subarray(0, bytes)) ?? false;
  }
}

/** A member connection whose reads go through `reader`; paused until its consumer is set. */
export function connectWithReader(host: string, port: number): { socket: net.Socket; reader: MemberReader } {
  const reader = new MemberReader();
  const socket = net.connect({
    host,
    port,
    allowHalfOpen: true,
    onread: { buffer: () => reader.buffer(), callback: (bytes, buffer) => reader.onRead(bytes, buffer as Buffer) },
  });
  socket.pause();
  return { socket, reader };
}

export class OnreadRelay implements RelayShape {
  bytesIn = 0;
  bytesOut = 0;
  readonly idle = new IdleTracker(false);
  clientSaidGoodbye = false;
  clientFlowing = false;

  constructor(
    private readonly client: Duplex,
    private readonly backend: net.Socket,
    private readonly reader: MemberReader,
  ) {}

  startClientToBackend(rest: Buffer): void {
    if (this.clientFlowing) return;
    this.clientFlowing = true;
    if (rest.length > 0) {
      this.bytesIn += rest.length;
      this.backend.write(rest);
    }
    this.client.on('data', this.fromClient);
    this.client.on('end', this.clientEnded);
    this.backend.on('drain', this.backendDrained);
    if (!this.backend.writableNeedDrain) this.client.resume();
  }

  startBackendToClient(rest: Buffer): void {
    if (rest.length > 0) this.writeClient(rest);
    this.reader.consumer = this.fromBackend;
    this.backend.on('end', this.backendEnded);
    this.client.on('drain', this.clientDrained);
    if (!this.client.writableNeedDrain) this.backend.resume();
  }

  writeClient(bytes: Buffer): void {
    this.bytesOut += bytes.length;
    this.idle.backendBytes(bytes);
    this.client.write(bytes);
  }

  stop(): void {
    this.reader.consumer = undefined;
    this.client.removeListener('data', this.fromClient);
    this.client.pause();
    this.backend.pause();
  }

  private readonly fromClient = (chunk: Buffer): void => {
    this.bytesIn += chunk.length;
    this.idle.clientBytes();
    this.clientSaidGoodbye = endsWithTerminate(chunk);
    if (!this.backend.write(chunk)) this.client.pause();
  };

  /** false pauses the member socket (node stops reading it) until the client drains. */
  private readonly fromBackend = (chunk: Buffer): boolean => {
    this.bytesOut += chunk.length;
    this.idle.backendBytes(chunk);
    const room = this.client.write(chunk);
    // Bytes still queued in the client stream point into the read buffer: it is theirs now.
    if (this.client.writableLength > 0) this.reader.giveAway();
    return room;
  };

  private readonly backendDrained = (): void => {
    this.client.resume();
  };

  private readonly clientDrained = (): void => {
    this.backend.resume();
  };

  private readonly clientEnded = (): void => {
    this.backend.end();
  };

  private readonly backendEnded = (): void => {
    this.client.end();
  };
}
