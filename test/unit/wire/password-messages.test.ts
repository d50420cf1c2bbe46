import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import { parseSaslInitialResponse } from '../../../src/wire/parser.js';
import { passwordMessage, saslInitialResponse, saslResponse } from '../../../src/wire/serializer.js';
import { frameOf } from '../../support/test-buffers.js';

describe('password messages', () => {
  it('reads the SASLInitialResponse pg-protocol writes', () => {
    const message = serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'n,,n=*,r=abc');
    const parsed = parseSaslInitialResponse(frameOf(message).body);
    expect(parsed?.mechanism).toBe('SCRAM-SHA-256');
    expect(parsed?.data?.toString()).toBe('n,,n=*,r=abc');
    expect(saslInitialResponse('SCRAM-SHA-256', Buffer.from('n,,n=*,r=abc')).equals(message)).toBe(true);
  });

  it('writes SASLResponse and PasswordMessage as pg-protocol does', () => {
    expect(saslResponse(Buffer.from('c=biws')).equals(serialize.sendSCRAMClientFinalMessage('c=biws'))).toBe(true);
    expect(passwordMessage(Buffer.from('md5abc')).equals(serialize.password('md5abc'))).toBe(true);
    expect(() => passwordMessage(Buffer.from('a\0b'))).toThrow(/NUL/);
  });

  it('rejects malformed SASLInitialResponses', () => {
    const withLength = (length: number, data: string) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(length);
      return Buffer.concat([Buffer.from('SCRAM-SHA-256\0'), b, Buffer.from(data)]);
    };
    expect(parseSaslInitialResponse(withLength(-1, ''))).toEqual({ mechanism: 'SCRAM-SHA-256', data: undefined });
    for (const bad of [
      Buffer.from('SCRAM-SHA-256'),
      Buffer.from('\0\0\0\0\0'),
      Buffer.from('SCRAM-SHA-256\0\0\0'),
      withLength(3, 'ab'),
      withLength(1, 'ab'),
      withLength(-2, ''),
      withLength(-1, 'x'),
    ]) {
      expect(parseSaslInitialResponse(bad)).toBeUndefined();
    }
  });

  it('writes a wipeable secret into a fresh buffer of its own, sized exactly', () => {
    const password = Buffer.from('a password the caller wipes');
    const cases: Array<[string, Buffer, Buffer]> = [
      ['PasswordMessage', passwordMessage(password), Buffer.concat([password, Buffer.from([0])])],
      ['SASLResponse', saslResponse(password), password],
    ];
    for (const [what, written, body] of cases) {
      // Its own memory: not a view of the input, not a slice of the shared pool.
      expect(written.byteOffset === 0 && written.buffer.byteLength === written.length, `${what} owns its memory`).toBe(true);
      expect(frameOf(written).body.equals(body), `${what} carries the bytes`).toBe(true);
      written.fill(0);
      expect(password.toString(), `${what} left the input alone`).toBe('a password the caller wipes');
    }
    const initial = saslInitialResponse('SCRAM-SHA-256', password);
    expect(initial.byteOffset === 0 && initial.buffer.byteLength === initial.length).toBe(true);
  });
});
