import { Readable } from 'node:stream';
import { parse, serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import { encodeAuthRequest, MalformedAuthRequest, parseAuthRequest } from '../../../../../src/proxy/backend/auth/wire/auth-request.js';
import {
  encodePasswordMessage,
  encodeSaslInitialResponse,
  encodeSaslResponse,
  parseSaslInitialResponse,
} from '../../../../../src/proxy/backend/auth/wire/password-messages.js';
import { parseServerError } from '../../../../../src/proxy/backend/auth/wire/server-error.js';

async function parseWithPg(bytes: Buffer): Promise<Array<Record<string, unknown>>> {
  const messages: Array<Record<string, unknown>> = [];
  await parse(Readable.from([bytes]), (m) => messages.push(m as unknown as Record<string, unknown>));
  return messages;
}

describe('authentication requests', () => {
  it('encodes what pg-protocol reads back', async () => {
    const bytes = Buffer.concat([
      encodeAuthRequest({ kind: 'sasl', mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'] }),
      encodeAuthRequest({ kind: 'sasl-continue', data: Buffer.from('r=abc,s=QUJD,i=1') }),
      encodeAuthRequest({ kind: 'sasl-final', data: Buffer.from('v=xyz') }),
      encodeAuthRequest({ kind: 'md5-password', salt: Buffer.from([9, 8, 7, 6]) }),
      encodeAuthRequest({ kind: 'cleartext-password' }),
      encodeAuthRequest({ kind: 'ok' }),
    ]);
    const messages = await parseWithPg(bytes);
    expect(messages.map((m) => m.name)).toEqual([
      'authenticationSASL',
      'authenticationSASLContinue',
      'authenticationSASLFinal',
      'authenticationMD5Password',
      'authenticationCleartextPassword',
      'authenticationOk',
    ]);
    expect(messages[0]?.mechanisms).toEqual(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
    expect(messages[1]?.data).toBe('r=abc,s=QUJD,i=1');
  });

  it('parses back what it encodes', () => {
    for (const request of [
      { kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] },
      { kind: 'sasl-continue', data: Buffer.from('x') },
      { kind: 'md5-password', salt: Buffer.from([1, 2, 3, 4]) },
      { kind: 'ok' },
      { kind: 'unsupported', code: 7 },
    ] as const) {
      expect(parseAuthRequest(encodeAuthRequest(request).subarray(5))).toEqual(request);
    }
  });

  it('rejects malformed requests', () => {
    const body = (code: number, rest: number[] = []) => Buffer.from([0, 0, 0, code, ...rest]);
    for (const bad of [Buffer.from([0, 0]), body(0, [1]), body(3, [1]), body(5, [1, 2, 3]), body(10, [0]), body(10, [65, 0]), body(10, [65, 0, 0, 66])]) {
      expect(() => parseAuthRequest(bad)).toThrow(MalformedAuthRequest);
    }
  });
});

describe('password messages', () => {
  it('reads the SASLInitialResponse pg-protocol writes', () => {
    const message = serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'n,,n=*,r=abc');
    const parsed = parseSaslInitialResponse(message.subarray(5));
    expect(parsed?.mechanism).toBe('SCRAM-SHA-256');
    expect(parsed?.data?.toString()).toBe('n,,n=*,r=abc');
    expect(encodeSaslInitialResponse('SCRAM-SHA-256', Buffer.from('n,,n=*,r=abc')).equals(message)).toBe(true);
  });

  it('writes SASLResponse and PasswordMessage as pg-protocol does', () => {
    expect(encodeSaslResponse(Buffer.from('c=biws')).equals(serialize.sendSCRAMClientFinalMessage('c=biws'))).toBe(true);
    expect(encodePasswordMessage(Buffer.from('md5abc')).equals(serialize.password('md5abc'))).toBe(true);
    expect(() => encodePasswordMessage(Buffer.from('a\0b'))).toThrow(/NUL/);
  });

  it('rejects malformed SASLInitialResponses', () => {
    const withLength = (length: number, data: string) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(length);
      return Buffer.concat([Buffer.from('SCRAM-SHA-256\0'), b, Buffer.from(data)]);
    };
    expect(parseSaslInitialResponse(withLength(-1, ''))).toEqual({ mechanism: 'SCRAM-SHA-256', data: undefined });
    for (const bad of [Buffer.from('SCRAM-SHA-256'), Buffer.from('\0\0\0\0\0'), Buffer.from('SCRAM-SHA-256\0\0\0'), withLength(3, 'ab'), withLength(1, 'ab'), withLength(-2, ''), withLength(-1, 'x')]) {
      expect(parseSaslInitialResponse(bad)).toBeUndefined();
    }
  });
});

describe('parseServerError', () => {
  it('reads severity, SQLSTATE, message and detail', () => {
    const body = Buffer.from('SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "x"\0Dd\0\0');
    expect(parseServerError(body)).toEqual({ severity: 'FATAL', code: '28P01', message: 'password authentication failed for user "x"', detail: 'd' });
  });
});
