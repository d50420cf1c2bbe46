import { leadingFrame, type Frame } from './frame-reader.js';

/**
 * FrameReader for streams whose bytes hold secrets: during authentication and the auth query a
 * server sends a user's md5 hash or SCRAM verifier, and a client its password or proof. Same
 * framing and the same `Frame`, but every buffer it lets go of is zero-filled: a chunk once it
 * has been joined to what was pending, and the frames it handed out once the caller says they
 * have been read (a frame is a view, not a copy, so the caller copies what it keeps first).
 */
export class SecretFrameReader {
  private pending: Buffer = Buffer.alloc(0);
  /** Frames handed out since the last wipe: their bytes alias `pending` or an older buffer. */
  private readonly handedOut: Buffer[] = [];

  constructor(private readonly maxMessageLength = 1 << 20) {}

  /** Takes `chunk` over: it is read in place, or zero-filled once copied into a joined buffer. */
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

  /** The next whole message, or undefined when more bytes are needed. Throws FrameTooLarge. */
  next(): Frame | undefined {
    const frame = leadingFrame(this.pending, this.maxMessageLength);
    if (frame === undefined) return undefined;
    this.pending = this.pending.subarray(frame.raw.length);
    this.handedOut.push(frame.raw);
    return frame;
  }

  /** Zero-fills the bytes of every message handed out so far. Call once they have been read. */
  wipeHandedOut(): void {
    for (const raw of this.handedOut) raw.fill(0);
    this.handedOut.length = 0;
  }

  /** Bytes received after the last whole message, as a copy; the reader zero-fills its own. */
  rest(): Buffer {
    const rest = Buffer.from(this.pending);
    this.pending.fill(0);
    this.pending = Buffer.alloc(0);
    return rest;
  }

  /** Zero-fills everything: messages handed out and bytes still pending. */
  wipe(): void {
    this.wipeHandedOut();
    this.pending.fill(0);
    this.pending = Buffer.alloc(0);
  }
}
