import { Readable } from 'node:stream';
import { parse } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import { MalformedAuthRequest, parseAuthRequest, type AuthRequest } from '../../../src/wire/auth-request.js';
import { AuthCode } from '../../../src/wire/message-codes.js';
import { authentication, authenticationOk, authenticationSasl } from '../../../src/wire/serializer.js';
import { frameOf } from '../../support/test-buffers.js';

async function parseWithPg(bytes: Buffer): Promise<Array<Record<string, unknown>>> {
  const messages: Array<Record<string, unknown>> = [];
  await parse(Readable.from([bytes]), (m) => messages.push(m as unknown as Record<string, unknown>));
  return messages;
}

describe('authentication requests', () => {
  it('encodes what pg-protocol reads back', async () => {
    const bytes = Buffer.concat([
      authenticationSasl(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']),
      authentication(AuthCode.SASLContinue, Buffer.from('r=abc,s=QUJD,i=1')),
      authentication(AuthCode.SASLFinal, Buffer.from('v=xyz')),
      authentication(AuthCode.MD5Password, Buffer.from([9, 8, 7, 6])),
      authentication(AuthCode.CleartextPassword),
      authenticationOk(),
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

  it('parses back what the serializer writes', () => {
    const written: Array<[Buffer, AuthRequest]> = [
      [authenticationSasl(['SCRAM-SHA-256']), { kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] }],
      [authentication(AuthCode.SASLContinue, Buffer.from('x')), { kind: 'sasl-continue', data: Buffer.from('x') }],
      [authentication(AuthCode.MD5Password, Buffer.from([1, 2, 3, 4])), { kind: 'md5-password', salt: Buffer.from([1, 2, 3, 4]) }],
      [authenticationOk(), { kind: 'ok' }],
      [authentication(AuthCode.GSS), { kind: 'unsupported', code: 7 }],
    ];
    for (const [bytes, request] of written) {
      expect(parseAuthRequest(frameOf(bytes).body)).toEqual(request);
    }
  });

  it('rejects malformed requests', () => {
    const body = (code: number, rest: number[] = []) => Buffer.from([0, 0, 0, code, ...rest]);
    for (const bad of [Buffer.from([0, 0]), body(0, [1]), body(3, [1]), body(5, [1, 2, 3]), body(10, [0]), body(10, [65, 0]), body(10, [65, 0, 0, 66])]) {
      expect(() => parseAuthRequest(bad)).toThrow(MalformedAuthRequest);
    }
  });
});
