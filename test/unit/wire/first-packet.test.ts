import { describe, expect, it } from 'vitest';
import { readFirstPacket, type FirstPacketRead } from '../../../src/wire/first-packet.js';
import { emptyParams } from '../../../src/wire/startup-params.js';
import { cancelRequest, sslRequest, startupMessage } from '../../../src/wire/serializer.js';
import { RequestCode } from '../../../src/wire/message-codes.js';
import { rawFirstPacket as packet } from '../../support/test-buffers.js';

/** Feeds the bytes one at a time, as a trickling client would, and returns the first final answer. */
function readTrickled(bytes: Buffer): { read: FirstPacketRead; at: number } {
  for (let n = 1; n <= bytes.length; n++) {
    const read = readFirstPacket(bytes.subarray(0, n));
    if (read.status !== 'incomplete') return { read, at: n };
  }
  return { read: { status: 'incomplete' }, at: bytes.length };
}

function startup(params: Record<string, string>, minor = 0): Buffer {
  const p = emptyParams();
  Object.assign(p, params);
  return startupMessage(3, minor, p);
}

describe('readFirstPacket', () => {
  it('reads an SSLRequest only once all 8 bytes arrived', () => {
    const { read, at } = readTrickled(sslRequest());
    expect(at).toBe(8);
    expect(read).toEqual({ status: 'complete', packet: { kind: 'ssl-request' }, consumed: 8 });
  });

  it('reads a GSSENCRequest', () => {
    const { read } = readTrickled(packet(8, RequestCode.GSSENC));
    expect(read).toMatchObject({ status: 'complete', packet: { kind: 'gssenc-request' } });
  });

  it('reads a StartupMessage 3.0 with its parameters, byte by byte', () => {
    const bytes = startup({ user: 'alice', database: 'db', application_name: 'x y' });
    const { read, at } = readTrickled(bytes);
    expect(at).toBe(bytes.length);
    expect(read).toMatchObject({
      status: 'complete',
      consumed: bytes.length,
      packet: { kind: 'startup', major: 3, minor: 0, params: { user: 'alice', database: 'db', application_name: 'x y' } },
    });
  });

  it('keeps a newer minor version (3.2) so the backend can negotiate it', () => {
    const { read } = readTrickled(startup({ user: 'a' }, 2));
    expect(read).toMatchObject({ status: 'complete', packet: { kind: 'startup', major: 3, minor: 2 } });
  });

  it('reports only the packet as consumed when more bytes follow', () => {
    const bytes = Buffer.concat([sslRequest(), Buffer.from('extra')]);
    expect(readFirstPacket(bytes)).toMatchObject({ status: 'complete', consumed: 8 });
  });

  it('reads a CancelRequest with a 4-byte key and a PG 18 long key', () => {
    const short = readTrickled(cancelRequest(4242, Buffer.from([1, 2, 3, 4]))).read;
    expect(short).toMatchObject({ status: 'complete', packet: { kind: 'cancel-request', processId: 4242 } });
    const secret = Buffer.alloc(32, 7);
    const long = readTrickled(cancelRequest(7, secret)).read;
    expect(long.status === 'complete' && long.packet.kind === 'cancel-request' && long.packet.secret.equals(secret)).toBe(true);
  });

  it('rejects cancel keys shorter than 4 or longer than 256 bytes', () => {
    expect(readFirstPacket(cancelRequest(1, Buffer.alloc(3)))).toMatchObject({ status: 'invalid', code: '08P01' });
    expect(readFirstPacket(cancelRequest(1, Buffer.alloc(257)))).toMatchObject({ status: 'invalid', code: '08P01' });
  });

  it('recognises a direct TLS ClientHello from its first byte and consumes nothing', () => {
    expect(readFirstPacket(Buffer.from([0x16]))).toEqual({ status: 'complete', packet: { kind: 'direct-tls' }, consumed: 0 });
    expect(readFirstPacket(Buffer.from([0x16, 3, 1]), { allowDirectTls: false })).toEqual({ status: 'incomplete' });
  });

  it.each([
    ['too short', 7],
    ['too long', 10001],
    ['2^31 - 1', 0x7fffffff],
    ['negative (2^31 as int32)', -0x80000000],
  ])('rejects a length that is %s as soon as 4 bytes arrived', (_name, length) => {
    const bytes = Buffer.alloc(8);
    bytes.writeInt32BE(length, 0);
    const { read, at } = readTrickled(bytes);
    expect(at).toBe(4);
    expect(read).toEqual({ status: 'invalid', code: '08P01', message: 'invalid length of startup packet' });
  });

  it('rejects an unknown request code and an unsupported protocol', () => {
    expect(readFirstPacket(packet(8, (1234 << 16) | 9999))).toMatchObject({ status: 'invalid', code: '08P01' });
    expect(readFirstPacket(packet(8, 2 << 16))).toMatchObject({ status: 'invalid', code: '0A000' });
  });

  it('rejects an SSLRequest with a wrong length', () => {
    expect(readFirstPacket(packet(12, 80877103, Buffer.alloc(4)))).toMatchObject({ status: 'invalid', code: '08P01' });
  });

  it('rejects startup parameters without their terminators', () => {
    const body = Buffer.from('user\0alice\0', 'utf8'); // missing final terminator
    const bytes = Buffer.concat([packet(8 + body.length, 3 << 16), body]);
    expect(readFirstPacket(bytes)).toMatchObject({ status: 'invalid', code: '08P01' });
    const noValue = Buffer.from('user\0', 'utf8');
    expect(readFirstPacket(Buffer.concat([packet(8 + noValue.length, 3 << 16), noValue]))).toMatchObject({ status: 'invalid' });
  });

  it('never lets a client parameter named __proto__ reach Object.prototype', () => {
    const read = readFirstPacket(startup({ user: 'a' }));
    const body = Buffer.from('__proto__\0x\0user\0a\0\0', 'utf8');
    const evil = readFirstPacket(Buffer.concat([packet(8 + body.length, 3 << 16), body]));
    expect(read.status).toBe('complete');
    expect(evil.status === 'complete' && evil.packet.kind === 'startup' && evil.packet.params['__proto__']).toBe('x');
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
});
