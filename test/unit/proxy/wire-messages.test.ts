import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parse, type DatabaseError } from 'pg-protocol';
import { errorResponse, noticeResponse, parseErrorFields } from '../../../src/proxy/wire/error-response.js';
import { BackendFramer, FrameTooLarge, parseBackendKeyData, parseParameterStatus } from '../../../src/proxy/wire/backend-frame.js';

async function parseWithPg(bytes: Buffer): Promise<Array<Record<string, unknown>>> {
  const messages: Array<Record<string, unknown>> = [];
  await parse(Readable.from([bytes]), (m) => messages.push(m as unknown as Record<string, unknown>));
  return messages;
}

describe('ErrorResponse writer', () => {
  it('writes fields pg-protocol reads back', async () => {
    const bytes = errorResponse({ severity: 'FATAL', code: '57P03', message: 'no primary', detail: 'd', hint: 'h' });
    const [m] = await parseWithPg(bytes);
    const err = m as unknown as DatabaseError;
    expect(err.name).toBe('error');
    expect(err.severity).toBe('FATAL');
    expect(err.code).toBe('57P03');
    expect(err.message).toBe('no primary');
    expect(err.detail).toBe('d');
    expect(err.hint).toBe('h');
  });

  it('writes a NoticeResponse and drops NUL bytes from text', async () => {
    const [m] = await parseWithPg(noticeResponse({ severity: 'WARNING', code: '01000', message: 'a\0b' }));
    expect(m).toMatchObject({ name: 'notice', code: '01000', message: 'ab' });
  });

  it('parses fields back', () => {
    const fields = parseErrorFields(errorResponse({ severity: 'FATAL', code: '28P01', message: 'bad password' }).subarray(5));
    expect(fields.get('C')).toBe('28P01');
    expect(fields.get('M')).toBe('bad password');
  });
});

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

describe('BackendFramer', () => {
  const stream = Buffer.concat([
    message('R', Buffer.from([0, 0, 0, 0])),
    message('S', Buffer.from('in_hot_standby\0off\0')),
    message('K', Buffer.from([0, 0, 0x10, 0x20, 9, 8, 7, 6])),
    message('Z', Buffer.from('I')),
    Buffer.from('tail'),
  ]);

  it('splits messages fed one byte at a time and keeps the rest', () => {
    const framer = new BackendFramer();
    const types: string[] = [];
    for (const byte of stream.subarray(0, stream.length - 4)) {
      framer.push(Buffer.from([byte]));
      for (let f = framer.next(); f !== undefined; f = framer.next()) types.push(f.type);
    }
    framer.push(stream.subarray(stream.length - 4));
    expect(framer.next()).toBeUndefined();
    expect(types).toEqual(['R', 'S', 'K', 'Z']);
    expect(framer.rest().toString()).toBe('tail');
  });

  it('returns raw bytes identical to the input', () => {
    const framer = new BackendFramer();
    framer.push(stream);
    const raws: Buffer[] = [];
    for (let f = framer.next(); f !== undefined; f = framer.next()) raws.push(f.raw);
    expect(Buffer.concat([...raws, framer.rest()]).equals(stream)).toBe(true);
  });

  it('refuses a length of 2^31 without allocating it', () => {
    const framer = new BackendFramer();
    framer.push(Buffer.from([0x44, 0x80, 0, 0, 0]));
    expect(() => framer.next()).toThrow(FrameTooLarge);
    const small = new BackendFramer();
    small.push(Buffer.from([0x44, 0, 0, 0, 3]));
    expect(() => small.next()).toThrow(FrameTooLarge);
  });

  it('reads BackendKeyData (4-byte and long keys) and ParameterStatus', () => {
    expect(parseBackendKeyData(Buffer.from([0, 0, 1, 0, 1, 2, 3, 4]))).toEqual({ processId: 256, secret: Buffer.from([1, 2, 3, 4]) });
    expect(parseBackendKeyData(Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.alloc(32, 5)]))?.secret.length).toBe(32);
    expect(parseBackendKeyData(Buffer.alloc(3))).toBeUndefined();
    expect(parseParameterStatus(Buffer.from('in_hot_standby\0on\0'))).toEqual({ name: 'in_hot_standby', value: 'on' });
    expect(parseParameterStatus(Buffer.from('broken'))).toBeUndefined();
  });
});
