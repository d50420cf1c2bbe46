import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrontendCode } from '../../../src/wire/message-codes.js';
import { MessageWriter } from '../../../src/wire/message-writer.js';
import { frameOf } from '../../support/test-buffers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('MessageWriter for secrets', () => {
  it('zero-fills a buffer it outgrows, so wiping the message leaves no copy behind', () => {
    const allocated: Buffer[] = [];
    const alloc = Buffer.alloc.bind(Buffer);
    vi.spyOn(Buffer, 'alloc').mockImplementation((size: number) => {
      const buffer = alloc(size);
      allocated.push(buffer);
      return buffer;
    });
    const secret = Buffer.alloc(100, 0x61);
    const message = new MessageWriter(FrontendCode.Password, 16, { secret: true }).bytes(secret.subarray(0, 8)).bytes(secret.subarray(8)).finish();
    expect(frameOf(message).body.equals(secret)).toBe(true);
    expect(allocated.length).toBeGreaterThan(1);
    const outgrown = allocated.filter((buffer) => buffer.buffer !== message.buffer);
    expect(outgrown.length).toBe(allocated.length - 1);
    expect(outgrown.every((buffer) => buffer.every((byte) => byte === 0))).toBe(true);
  });
});
