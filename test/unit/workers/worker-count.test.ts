import { describe, expect, it } from 'vitest';
import { describeWorkers, workerCount } from '../../../src/workers/worker-count.js';

describe('workerCount', () => {
  it('takes a number as it is, and auto as one per core, at least 1 and at most 127', () => {
    expect(workerCount(1, 8)).toBe(1);
    expect(workerCount(3, 2)).toBe(3);
    expect(workerCount('auto', 2)).toBe(2);
    expect(workerCount('auto', 1)).toBe(1);
    expect(workerCount('auto', 0)).toBe(1);
    expect(workerCount('auto', 512)).toBe(127);
  });

  it('says what will run', () => {
    expect(describeWorkers(1, 2)).toBe('workers: 1, everything in one process');
    expect(describeWorkers('auto', 2)).toBe('workers: 2 (auto: 2 cores), 2 worker processes accept and relay; the primary process follows the topology and serves the admin API');
  });
});
