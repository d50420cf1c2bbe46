/** One backend message during the startup phase: its type byte, body, and the exact bytes to relay. */
export interface BackendFrame {
  type: string;
  body: Buffer;
  raw: Buffer;
}

/** A message length the router refuses to buffer: a protocol violation, never an allocation. */
export class FrameTooLarge extends Error {
  constructor(readonly length: number) {
    super(`backend message length ${length} is out of bounds`);
  }
}

/**
 * Splits a byte stream into `type + int32 length + body` messages, however it is chunked.
 * Used only until ReadyForQuery; afterwards bytes are relayed without framing.
 */
export class BackendFramer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageLength = 1 << 20) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
  }

  /** The next whole message, or undefined when more bytes are needed. Throws FrameTooLarge. */
  next(): BackendFrame | undefined {
    if (this.pending.length < 5) return undefined;
    const length = this.pending.readInt32BE(1);
    if (length < 4 || length > this.maxMessageLength) throw new FrameTooLarge(length);
    if (this.pending.length < length + 1) return undefined;
    const raw = this.pending.subarray(0, length + 1);
    this.pending = this.pending.subarray(length + 1);
    return { type: String.fromCharCode(raw[0] as number), body: raw.subarray(5), raw };
  }

  /** Bytes received after the last whole message (handed to the raw relay after ReadyForQuery). */
  rest(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }
}

export function parseBackendKeyData(body: Buffer): { processId: number; secret: Buffer } | undefined {
  if (body.length < 8) return undefined;
  return { processId: body.readInt32BE(0), secret: Buffer.from(body.subarray(4)) };
}

export function parseParameterStatus(body: Buffer): { name: string; value: string } | undefined {
  const nameEnd = body.indexOf(0);
  if (nameEnd < 0) return undefined;
  const valueEnd = body.indexOf(0, nameEnd + 1);
  if (valueEnd < 0) return undefined;
  return { name: body.toString('utf8', 0, nameEnd), value: body.toString('utf8', nameEnd + 1, valueEnd) };
}
