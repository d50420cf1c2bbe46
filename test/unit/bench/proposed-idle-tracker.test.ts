import { describe, expect, it } from 'vitest';
import { TailIdleTracker } from '../../../bench/relay-prototypes/proposed-idle-tracker.js';
import { IdleTracker } from '../../../src/proxy/idle-tracker.js';

const readyForQuery = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
const dataRow = Buffer.from([0x44, 0, 0, 0, 6, 0, 0]);

/** A little generator of repeatable "random" numbers, so a failure can be replayed. */
function numbers(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32);
}

describe('TailIdleTracker, the copy-free IdleTracker', () => {
  it('answers exactly as IdleTracker after every chunk of streams cut at random places', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = numbers(seed);
      const parts: Buffer[] = [];
      for (let i = 0; i < 20; i++) parts.push(next() < 0.4 ? readyForQuery : next() < 0.5 ? dataRow : Buffer.from([0x5a, 0, 0, 0, 5]));
      const stream = Buffer.concat(parts);
      const old = new IdleTracker(false);
      const proposed = new TailIdleTracker(false);
      for (let at = 0; at < stream.length; ) {
        const size = 1 + Math.floor(next() * 9);
        const chunk = Buffer.from(stream.subarray(at, at + size));
        at += size;
        if (next() < 0.3) {
          old.clientBytes();
          proposed.clientBytes();
        }
        old.backendBytes(chunk);
        proposed.backendBytes(chunk);
        chunk.fill(0xff); // the relay may reuse the chunk: neither may depend on it afterwards
        expect([proposed.isAtBoundary(), proposed.isIdle()], `seed ${seed} at ${at}`).toEqual([old.isAtBoundary(), old.isIdle()]);
      }
    }
  });

  it('recognises a ReadyForQuery split across chunks of any size', () => {
    for (let cut = 1; cut < 6; cut++) {
      const t = new TailIdleTracker(false);
      t.backendBytes(Buffer.concat([dataRow, readyForQuery.subarray(0, cut)]));
      expect(t.isAtBoundary()).toBe(false);
      for (const byte of readyForQuery.subarray(cut)) t.backendBytes(Buffer.from([byte]));
      expect(t.isAtBoundary(), `cut at ${cut}`).toBe(true);
    }
  });
});
