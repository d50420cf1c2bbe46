import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import {
  encodePasswordMessage,
  encodeSaslInitialResponse,
  encodeSaslResponse,
  parseSaslInitialResponse,
} from '../../../../../src/proxy/backend/auth/wire/password-messages.js';
import { parseServerError } from '../../../../../src/proxy/backend/auth/wire/server-error.js';

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
