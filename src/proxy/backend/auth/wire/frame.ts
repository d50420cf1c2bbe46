// The encoders left of this folder until the messages move to src/wire/serializer.ts.

/** Builds `type + int32 length + body`. The result is a fresh buffer the caller may wipe. */
export function encodeFrame(type: string, body: Buffer): Buffer {
  if (type.length !== 1) throw new RangeError(`message type must be one byte, got ${JSON.stringify(type)}`);
  const out = Buffer.alloc(5 + body.length);
  out.write(type, 0, 'latin1');
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

/** `text\0`, UTF-8. */
export function cString(text: string): Buffer {
  if (text.includes('\0')) throw new RangeError('a protocol string cannot contain a NUL byte');
  return Buffer.from(`${text}\0`, 'utf8');
}

/** Reads a NUL-terminated UTF-8 string at `offset`; undefined when there is no terminator. */
export function readCString(body: Buffer, offset: number): { text: string; next: number } | undefined {
  const end = body.indexOf(0, offset);
  if (end < 0) return undefined;
  return { text: body.toString('utf8', offset, end), next: end + 1 };
}
