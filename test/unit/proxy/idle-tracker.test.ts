import { describe, expect, it } from 'vitest';
import { IdleTracker } from '../../../src/proxy/idle-tracker.js';

const readyForQuery = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
const dataRow = Buffer.from([0x44, 0, 0, 0, 6, 0, 0]);

describe('IdleTracker', () => {
  it('is idle after a ReadyForQuery, and at a boundary but not idle once the client sends a query', () => {
    const t = new IdleTracker(false);
    t.backendBytes(Buffer.concat([dataRow, readyForQuery]));
    expect([t.isAtBoundary(), t.isIdle()]).toEqual([true, true]);
    t.clientBytes();
    expect([t.isAtBoundary(), t.isIdle()]).toEqual([true, false]);
  });

  it('is not at a boundary in the middle of the backend stream', () => {
    const t = new IdleTracker(true);
    t.backendBytes(dataRow);
    expect([t.isAtBoundary(), t.isIdle()]).toEqual([false, false]);
  });

  it('recognises a ReadyForQuery split across chunks of any size', () => {
    for (let cut = 1; cut < 6; cut++) {
      const t = new IdleTracker(false);
      t.backendBytes(Buffer.concat([dataRow, readyForQuery.subarray(0, cut)]));
      expect(t.isAtBoundary()).toBe(false);
      for (const byte of readyForQuery.subarray(cut)) t.backendBytes(Buffer.from([byte]));
      expect(t.isAtBoundary(), `cut at ${cut}`).toBe(true);
    }
  });

  it('keeps a copy of the tail, not the relayed chunk (which the relay reuses or frees)', () => {
    const t = new IdleTracker(false);
    const chunk = Buffer.concat([dataRow, readyForQuery.subarray(0, 3)]);
    t.backendBytes(chunk);
    chunk.fill(0);
    t.backendBytes(readyForQuery.subarray(3));
    expect(t.isAtBoundary()).toBe(true);
  });
});
