import { HEADER_LENGTH } from './message-codes.js';

/** One message: its type byte, its body, and the exact bytes to relay. */
export interface Frame {
  code: number;
  body: Buffer;
  raw: Buffer;
}

/** A message length the router refuses to buffer: a protocol violation, never an allocation. */
export class FrameTooLarge extends Error {
  constructor(readonly length: number) {
    super(`message length ${length} is out of bounds`);
  }
}

/**
 * The whole message at the start of `bytes` (views, no copy), or undefined when more bytes are
 * needed. Throws FrameTooLarge as soon as the header shows a length beyond `maxMessageLength`,
 * so no reader ever waits for, or buffers, such a message. FrameReader and SecretFrameReader
 * both frame with it, so framing is defined once.
 */
export function leadingFrame(bytes: Buffer, maxMessageLength: number): Frame | undefined {
  if (bytes.length < HEADER_LENGTH) return undefined;
  const length = bytes.readInt32BE(1);
  if (length < 4 || length > maxMessageLength) throw new FrameTooLarge(length);
  if (bytes.length < length + 1) return undefined;
  const raw = bytes.subarray(0, length + 1);
  return { code: raw[0] as number, body: raw.subarray(HEADER_LENGTH), raw };
}

/**
 * Splits a byte stream of `type + int32 length + body` messages, however it is chunked, in
 * either direction. Frames are views into the received chunks (no copy) unless a message
 * straddles chunks. Bounded: a length beyond `maxMessageLength` throws before anything is
 * buffered for it.
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageLength = 1 << 20) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
  }

  /** The next whole message, or undefined when more bytes are needed. Throws FrameTooLarge. */
  next(): Frame | undefined {
    const frame = leadingFrame(this.pending, this.maxMessageLength);
    if (frame !== undefined) this.pending = this.pending.subarray(frame.raw.length);
    return frame;
  }

  /** The bytes kept for the next message become a copy of their own (their chunk is about to be reused). */
  ownPending(): void {
    if (this.pending.length > 0) this.pending = Buffer.from(this.pending);
  }

  /** Bytes received after the last whole message, handed over when framing stops. */
  rest(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }

  get buffered(): number {
    return this.pending.length;
  }
}
