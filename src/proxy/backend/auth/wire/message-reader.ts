import type { WireFrame } from './frame.js';

/** A message length the reader refuses to buffer: a protocol violation, never an allocation. */
export class MessageTooLarge extends Error {
  constructor(readonly length: number) {
    super(`server message length ${length} is out of bounds`);
  }
}

/**
 * Splits a server's byte stream into messages, however it is chunked. Unlike the proxy's framer it
 * zero-fills every buffer it lets go of, because during authentication and the auth query those
 * bytes hold secrets (a user's md5 hash, a SCRAM verifier).
 */
export class MessageReader {
  private pending: Buffer = Buffer.alloc(0);
  /** Frames handed out since the last wipe: their bytes alias `pending` or an older buffer. */
  private readonly handedOut: Buffer[] = [];

  constructor(private readonly maxMessageLength = 1 << 20) {}

  push(chunk: Buffer): void {
    if (this.pending.length === 0) {
      this.pending = chunk;
      return;
    }
    const joined = Buffer.concat([this.pending, chunk]);
    this.pending.fill(0);
    chunk.fill(0);
    this.pending = joined;
  }

  /** The next whole message, or undefined when more bytes are needed. Throws MessageTooLarge. */
  next(): WireFrame | undefined {
    if (this.pending.length < 5) return undefined;
    const length = this.pending.readInt32BE(1);
    if (length < 4 || length > this.maxMessageLength) throw new MessageTooLarge(length);
    if (this.pending.length < length + 1) return undefined;
    const raw = this.pending.subarray(0, length + 1);
    this.pending = this.pending.subarray(length + 1);
    this.handedOut.push(raw);
    return { type: String.fromCharCode(raw[0] as number), body: raw.subarray(5) };
  }

  /**
   * Zero-fills the bytes of every message handed out so far. Call once they have been read
   * (copied where needed): a frame's body is a view, not a copy.
   */
  wipeHandedOut(): void {
    for (const raw of this.handedOut) raw.fill(0);
    this.handedOut.length = 0;
  }

  /** Bytes received after the last whole message; the reader forgets them. */
  rest(): Buffer {
    const rest = Buffer.from(this.pending);
    this.pending.fill(0);
    this.pending = Buffer.alloc(0);
    return rest;
  }

  wipe(): void {
    this.wipeHandedOut();
    this.pending.fill(0);
    this.pending = Buffer.alloc(0);
  }
}
