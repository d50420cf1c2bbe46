import v8 from 'node:v8';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { censusOfHeapSnapshot, heapGrowth } from '../../../chaos/observe/heap-snapshot.js';

/** A snapshot of this very process, as the chaos run takes one of the router. */
function snapshotOfThisProcess(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heap-'));
  try {
    return fs.readFileSync(v8.writeHeapSnapshot(path.join(dir, 'x.heapsnapshot')), 'utf8');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

class RetainedForTheTest {
  constructor(readonly payload: string) {}
}

describe('heap snapshot census', () => {
  it('counts live objects by class, and names what grew between two snapshots', () => {
    const before = censusOfHeapSnapshot(snapshotOfThisProcess());
    const kept = Array.from({ length: 2_000 }, (_, i) => new RetainedForTheTest(`payload ${i}`));
    const after = censusOfHeapSnapshot(snapshotOfThisProcess());
    expect(kept).toHaveLength(2_000);
    expect(after.byName.get('RetainedForTheTest')?.count).toBe(2_000);
    expect(before.byName.get('RetainedForTheTest')).toBeUndefined();
    expect(after.liveBytes).toBeGreaterThan(before.liveBytes);
    expect(heapGrowth(before, after, 50).find((g) => g.name === 'RetainedForTheTest')).toMatchObject({ count: 2_000 });
  });

  it('says which field is missing from something that is not a snapshot', () => {
    expect(() => censusOfHeapSnapshot('{"nodes":[]}')).toThrow(/snapshot.meta, nodes or strings is missing/);
  });
});
