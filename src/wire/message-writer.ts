/**
 * Builds one message: an optional type byte, an int32 length patched in at the end, then the
 * fields. Grows by doubling, so a message is written once and copied once.
 *
 * With `secret`, for messages carrying a password or a SCRAM proof that the caller zero-fills
 * once written: the memory is the message's own, outside Node's shared allocation pool (where
 * any other buffer's `.buffer` would reach it), and a buffer it outgrows is zero-filled, so
 * wiping the finished message leaves no copy behind.
 */
export class MessageWriter {
  private buffer: Buffer;
  private offset: number;
  private readonly lengthAt: number;
  private readonly secret: boolean;

  /** `code` undefined: a startup-style packet (length first, no type byte). */
  constructor(code?: number, sizeHint = 64, options: { secret?: boolean } = {}) {
    this.secret = options.secret === true;
    this.buffer = this.allocate(Math.max(sizeHint, 16));
    if (code === undefined) {
      this.lengthAt = 0;
      this.offset = 4;
    } else {
      this.buffer[0] = code;
      this.lengthAt = 1;
      this.offset = 5;
    }
  }

  private ensure(n: number): void {
    if (this.offset + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.offset + n) size *= 2;
    const grown = this.allocate(size);
    this.buffer.copy(grown, 0, 0, this.offset);
    if (this.secret) this.buffer.fill(0);
    this.buffer = grown;
  }

  private allocate(size: number): Buffer {
    // Buffer.alloc never takes from the pool; allocUnsafe does below 4 KiB.
    return this.secret ? Buffer.alloc(size) : Buffer.allocUnsafe(size);
  }

  byte(value: number): this {
    this.ensure(1);
    this.buffer[this.offset++] = value;
    return this;
  }

  int16(value: number): this {
    this.ensure(2);
    this.buffer.writeUInt16BE(value, this.offset);
    this.offset += 2;
    return this;
  }

  int32(value: number): this {
    this.ensure(4);
    this.buffer.writeInt32BE(value, this.offset);
    this.offset += 4;
    return this;
  }

  /** A NUL-terminated UTF-8 string; NUL bytes inside it are dropped (they would end it early). */
  cstring(value: string): this {
    const text = value.includes('\0') ? value.replace(/\0/g, '') : value;
    const length = Buffer.byteLength(text, 'utf8');
    this.ensure(length + 1);
    this.buffer.write(text, this.offset, 'utf8');
    this.offset += length;
    this.buffer[this.offset++] = 0;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.ensure(value.length);
    this.buffer.set(value, this.offset);
    this.offset += value.length;
    return this;
  }

  /** The finished message, its length field filled in. */
  finish(): Buffer {
    this.buffer.writeInt32BE(this.offset - this.lengthAt, this.lengthAt);
    return this.buffer.subarray(0, this.offset);
  }
}
