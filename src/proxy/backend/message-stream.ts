import type { Duplex } from 'node:stream';
import type { Frame } from '../../wire/frame-reader.js';
import { SecretFrameReader } from '../../wire/secret-frame-reader.js';

export class ConnectionClosed extends Error {
  constructor(cause?: Error) {
    super(cause ? `the connection failed: ${cause.message}` : 'the server closed the connection', cause ? { cause } : undefined);
  }
}

/**
 * The messages a server sends on a stream, one `await next()` at a time: how the router reads a
 * member it logs in to itself (another link for a session, the auth query). Owns the stream's
 * 'data' until release(); the bytes pass through a SecretFrameReader, because they may hold a
 * user's secret, so they are zero-filled once read.
 */
export class ServerMessages {
  private readonly reader: SecretFrameReader;
  private waiter: { resolve: (frame: Frame) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  private readonly onData = (chunk: Buffer): void => {
    this.reader.push(chunk);
    this.wake();
  };
  private readonly onEnd = (): void => this.fail(new ConnectionClosed());
  private readonly onError = (error: Error): void => this.fail(new ConnectionClosed(error));

  constructor(
    private readonly stream: Duplex,
    maxMessageLength?: number,
  ) {
    this.reader = new SecretFrameReader(maxMessageLength);
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
    // Sockets from the connector arrive paused; this reader owns their data from now on.
    stream.resume();
  }

  /** The next whole message; rejects when the stream ends or errs, or a length is absurd. */
  next(): Promise<Frame> {
    if (this.waiter) return Promise.reject(new Error('ServerMessages.next() called while a read is pending'));
    try {
      const frame = this.reader.next();
      if (frame) return Promise.resolve(frame);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Zero-fills the bytes of the messages read so far (copy what you keep first). */
  wipeRead(): void {
    this.reader.wipeHandedOut();
  }

  /** Stops listening (a pending next() rejects); returns bytes received beyond the last message read. */
  release(): Buffer {
    this.fail(new ConnectionClosed());
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onEnd);
    this.stream.off('error', this.onError);
    const rest = this.reader.rest();
    this.reader.wipe();
    return rest;
  }

  private wake(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    try {
      const frame = this.reader.next();
      if (!frame) return;
      this.waiter = undefined;
      waiter.resolve(frame);
    } catch (error) {
      this.waiter = undefined;
      waiter.reject(error as Error);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.failure);
  }
}
