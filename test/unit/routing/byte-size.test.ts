import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../../src/routing/byte-size.js';

describe('formatBytes', () => {
  it('uses binary units with one decimal below 10', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1023)).toBe('1023 bytes');
    expect(formatBytes(1536)).toBe('1.5 kB');
    expect(formatBytes(16 * 1024 * 1024)).toBe('16 MB');
    expect(formatBytes(20.4 * 1024 * 1024)).toBe('20 MB');
    expect(formatBytes(1024 * 1024 * 1024)).toBe('1 GB');
  });
});
