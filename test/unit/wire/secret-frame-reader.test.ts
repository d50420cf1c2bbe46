import { describe, expect, it } from 'vitest';
import { FrameTooLarge } from '../../../src/wire/frame-reader.js';
import { BackendCode } from '../../../src/wire/message-codes.js';
import { SecretFrameReader } from '../../../src/wire/secret-frame-reader.js';
import { authenticationOk } from '../../../src/wire/serializer.js';
import { message } from '../../support/test-buffers.js';

const zeros = (bytes: Buffer | undefined): boolean => bytes !== undefined && bytes.every((b) => b === 0);

describe('SecretFrameReader', () => {
  const stream = Buffer.concat([authenticationOk(), message('D', 'secret-bytes'), message('Z', 'I')]);

  it('splits messages fed one byte at a time', () => {
    const reader = new SecretFrameReader();
    const codes: number[] = [];
    for (const byte of stream) {
      reader.push(Buffer.from([byte]));
      for (let m = reader.next(); m; m = reader.next()) codes.push(m.code);
    }
    expect(codes).toEqual([BackendCode.Authentication, BackendCode.DataRow, BackendCode.ReadyForQuery]);
  });

  it('zero-fills what it handed out and what it copied', () => {
    const first = Buffer.from(stream.subarray(0, 12));
    const second = Buffer.from(stream.subarray(12));
    const reader = new SecretFrameReader();
    reader.push(first);
    reader.push(second);
    expect(first.every((b) => b === 0) && second.every((b) => b === 0)).toBe(true);
    const frames = [reader.next(), reader.next(), reader.next()];
    expect(frames[1]?.body.toString()).toBe('secret-bytes');
    reader.wipeHandedOut();
    expect(frames.every((f) => f?.body.every((b) => b === 0))).toBe(true);
  });

  it('refuses absurd lengths', () => {
    const reader = new SecretFrameReader(1024);
    reader.push(Buffer.from([0x44, 0x7f, 0xff, 0xff, 0xff]));
    expect(() => reader.next()).toThrow(FrameTooLarge);
  });

  it("hands out FrameReader's Frame: the type byte, the body, and the exact bytes", () => {
    const reader = new SecretFrameReader();
    reader.push(Buffer.from(stream));
    const frame = reader.next();
    expect(frame?.code).toBe(BackendCode.Authentication);
    expect(frame?.raw.equals(authenticationOk())).toBe(true);
    expect(frame?.body.equals(authenticationOk().subarray(5))).toBe(true);
  });

  it('hands back the bytes after the last message as a copy and zero-fills its own', () => {
    const chunk = Buffer.concat([message('D', 'secret-bytes'), Buffer.from('partial')]);
    const reader = new SecretFrameReader();
    reader.push(chunk);
    reader.next();
    const rest = reader.rest();
    expect(rest.toString()).toBe('partial');
    expect(zeros(chunk.subarray(chunk.length - 'partial'.length))).toBe(true);
    expect(reader.next()).toBeUndefined();
  });

  it('wipe() zero-fills both what it handed out and what is still pending', () => {
    const chunk = Buffer.concat([message('D', 'secret-bytes'), message('D', 'more-secret').subarray(0, 8)]);
    const reader = new SecretFrameReader();
    reader.push(chunk);
    const frame = reader.next();
    reader.wipe();
    expect(zeros(frame?.raw)).toBe(true);
    expect(zeros(chunk)).toBe(true);
    expect(reader.next()).toBeUndefined();
  });
});
