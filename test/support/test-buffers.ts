/**
 * Messages for tests, built with the router's own MessageWriter: backend messages the router
 * never writes itself (rows, command tags) and deliberately malformed packets. Messages the
 * router does write come from src/wire/serializer.ts, so tests and code share one encoder.
 */
import { BackendCode } from '../../src/wire/message-codes.js';
import { MessageWriter } from '../../src/wire/message-writer.js';
import { FrameReader, type Frame } from '../../src/wire/frame-reader.js';

/** Any message: a type byte (a character or a code) and a body. */
export function message(code: number | string, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const byte = typeof code === 'string' ? code.charCodeAt(0) : code;
  return new MessageWriter(byte).bytes(typeof body === 'string' ? Buffer.from(body, 'utf8') : body).finish();
}

/** A first packet with any length and code, right or wrong (for the first-packet reader's tests). */
export function rawFirstPacket(length: number, code: number, extra: Buffer = Buffer.alloc(0)): Buffer {
  const head = new MessageWriter(undefined, 8).int32(code).finish();
  head.writeInt32BE(length, 0);
  return Buffer.concat([head, extra]);
}

/** One text column per name. */
export function rowDescription(names: readonly string[]): Buffer {
  const w = new MessageWriter(BackendCode.RowDescription).int16(names.length);
  // table oid 0, column 0, type text (25), size -1, modifier -1, text format
  for (const name of names) w.cstring(name).int32(0).int16(0).int32(25).int16(0xffff).int32(-1).int16(0);
  return w.finish();
}

export function dataRow(values: ReadonlyArray<string | null>): Buffer {
  const w = new MessageWriter(BackendCode.DataRow).int16(values.length);
  for (const v of values) {
    if (v === null) w.int32(-1);
    else {
      const bytes = Buffer.from(v, 'utf8');
      w.int32(bytes.length).bytes(bytes);
    }
  }
  return w.finish();
}

export function commandComplete(tag: string): Buffer {
  return new MessageWriter(BackendCode.CommandComplete).cstring(tag).finish();
}

export function emptyQueryResponse(): Buffer {
  return new MessageWriter(BackendCode.EmptyQueryResponse).finish();
}

/** Every whole message in `bytes`, for assertions on what a peer received. */
export function framesOf(bytes: Buffer): Frame[] {
  const reader = new FrameReader(1 << 30);
  reader.push(bytes);
  const frames: Frame[] = [];
  for (let f = reader.next(); f !== undefined; f = reader.next()) frames.push(f);
  return frames;
}

/** The one frame a single message is. */
export function frameOf(bytes: Buffer): Frame {
  const [frame] = framesOf(bytes);
  if (frame === undefined) throw new Error('not a whole message');
  return frame;
}
