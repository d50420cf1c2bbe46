import { describe, expect, it } from 'vitest';
import { joinMessages } from '../../../src/wire/contiguous-bytes.js';

describe('joinMessages', () => {
  it('joins neighbouring views of one chunk without a copy', () => {
    const chunk = Buffer.from('abcdefgh');
    const joined = joinMessages([chunk.subarray(1, 3), chunk.subarray(3, 4), chunk.subarray(4, 7)]);
    expect(joined.toString()).toBe('bcdefg');
    chunk[2] = 0x58; // 'X': the joined bytes are the chunk's own
    expect(joined.toString()).toBe('bXdefg');
  });

  it('copies views with a gap between them, or of different chunks', () => {
    const chunk = Buffer.from('abcdefgh');
    expect(joinMessages([chunk.subarray(0, 2), chunk.subarray(3, 5)]).toString()).toBe('abde');
    expect(joinMessages([Buffer.from('ab'), Buffer.from('cd')]).toString()).toBe('abcd');
  });
});
