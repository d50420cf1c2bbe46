import { describe, expect, it } from 'vitest';
import { isReferenceRun, type BenchResults, type SplitRun, type SplitSection } from '../../../bench/results.js';
import { judgeTargets, renderMarkdown } from '../../../bench/results-table.js';
import { judgeSplitTargets, splitCells } from '../../../bench/split-tables.js';
import { servedDuring } from '../../../bench/split-workload.js';

function splitRun(
  endpoint: SplitRun['endpoint'],
  clients: number,
  repetition: number,
  o: { tps: number; primaryReads: number; replicaReads: number; stale?: number; iterations?: number; replica25006?: number; cpu?: number },
): SplitRun {
  const writes = Math.round((o.primaryReads + o.replicaReads) / 9);
  return {
    endpoint,
    clients,
    repetition,
    loadAverage: 2.5,
    tps: o.tps,
    latencyAverageMs: 1,
    p99Ms: 5 + repetition,
    readP99Ms: 4,
    writeP99Ms: 9,
    transactions: o.primaryReads + o.replicaReads + writes,
    pgbenchReads: o.primaryReads + o.replicaReads,
    pgbenchWrites: writes,
    failedTransactions: 0,
    errors: [],
    served: servedDuring([
      { member: 'pg0', role: 'primary', before: { reads: 0, writes: 0 }, after: { reads: o.primaryReads, writes }, errors: {} },
      { member: 'pg1', role: 'replica', before: { reads: 0, writes: 0 }, after: { reads: o.replicaReads, writes: 0 }, errors: o.replica25006 ? { '25006': o.replica25006 } : {} },
    ]),
    checker: { iterations: o.iterations ?? 500, stale: o.stale ?? 0, readsByPort: {}, errors: [], replicaReads: 0 },
    maxReplayLagBytes: 2048,
    maxReplayLagMs: 3.5,
    ...(o.cpu === undefined ? {} : { proxy: { peakRssKb: 90_000, cpuSeconds: o.cpu, userSeconds: o.cpu / 2, systemSeconds: o.cpu / 2, processes: 1 } }),
    ...(endpoint === 'router-split' ? { routed: { 'replica:read': o.replicaReads, 'primary:consistency': o.primaryReads, 'primary:write': writes }, retriedOnPrimary: 0 } : {}),
  };
}

function section(runs: SplitRun[]): SplitSection {
  return {
    seconds: 5,
    repetitions: 2,
    clients: [8],
    checkerIntervalMs: 5,
    user: 'trustuser',
    primaryPort: 5432,
    replicaPorts: [5433, 5434],
    routerConfig: 'listeners: []\n',
    pgpoolConfig: 'port = 9999\n',
    runs,
  };
}

const runs = [
  splitRun('router-split', 8, 0, { tps: 3000, primaryReads: 500, replicaReads: 9500, cpu: 1.5 }),
  splitRun('router-split', 8, 1, { tps: 3400, primaryReads: 1500, replicaReads: 8500, cpu: 1.5 }),
  splitRun('router-primary', 8, 0, { tps: 5000, primaryReads: 10_000, replicaReads: 0 }),
  splitRun('pgpool', 8, 0, { tps: 4000, primaryReads: 0, replicaReads: 10_000, stale: 200, iterations: 400 }),
  splitRun('pgpool', 8, 1, { tps: 3000, primaryReads: 0, replicaReads: 10_000, stale: 100, iterations: 400 }),
];

describe('the mixed-workload report', () => {
  it('takes the median TPS and p99 per cell, and totals for shares and counts', () => {
    const cells = splitCells(runs);
    expect(cells.map((c) => c.endpoint)).toEqual(['router-split', 'router-primary', 'pgpool']);
    const split = cells[0]!;
    expect(split.tps).toBe(3200);
    expect(split.p99Ms).toBe(5.5);
    expect(split.replicaReads).toBe(18_000);
    expect(split.reads).toBe(20_000);
    expect(split.replicaShare).toBeCloseTo(0.9);
    expect(split.checkerIterations).toBe(1000);
    expect(split.proxyCpuPerTenThousand).toBeCloseTo((3 * 10_000) / (runs[0]!.transactions + runs[1]!.transactions));
    expect(cells[2]!.checkerStale).toBe(300);
    expect(cells[1]!.proxyCpuPerTenThousand).toBeNaN();
  });

  it("judges issue 14's targets for the split listener, per client count", () => {
    const checks = judgeSplitTargets(section(runs));
    expect(checks.map((c) => [c.target, c.met])).toEqual([
      ['mixed 90/10, 8 clients: >= 90% of replica-safe reads served by replicas (split listener)', true],
      ['mixed 90/10, 8 clients: 0 stale reads with read-your-writes (checker through the split listener)', true],
      ['mixed 90/10, 8 clients: 0 writes on a replica (split listener)', true],
      ["mixed 90/10, 8 clients: split listener TPS >= Pgpool-II's", false],
    ]);
    expect(checks[0]!.measured).toBe('90.0% (18000 of 20000; replicas at most 3.5 ms behind)');
    expect(checks[3]!.measured).toBe('3200 vs 3500 (0.914x)');
  });

  it('says a write that reached a replica and a stale read plainly', () => {
    const bad = [splitRun('router-split', 8, 0, { tps: 3000, primaryReads: 5000, replicaReads: 5000, stale: 2, iterations: 100, replica25006: 1 })];
    const checks = judgeSplitTargets(section(bad));
    expect(checks.map((c) => c.met)).toEqual([false, false, false, undefined]);
    expect(checks[2]!.measured).toBe("1 (25006 errors in the replicas' logs)");
    expect(checks[3]!.measured).toBe('Pgpool-II did not run');
  });

  const base: BenchResults = {
    date: '2026-01-01T00:00:00.000Z',
    mode: 'quick',
    machine: { cpus: 2, cpuModel: 'test', memoryMb: 4096, kernel: '6.1', hostname: 'h' },
    versions: { node: 'v20' },
    settings: { pgbenchSeconds: 5, repetitions: 2, scale: 10, ttl: 30, loopWait: 10, haproxyConfig: '' },
    throughput: [],
    churn: [],
    switchovers: [],
    crashes: [],
    notes: [],
  };

  it('adds the section, its targets and the configurations to the report only when it ran', () => {
    expect(renderMarkdown(base)).not.toContain('Mixed reads and writes');
    expect(judgeTargets(base).some((c) => c.target.startsWith('mixed'))).toBe(false);
    const md = renderMarkdown({ ...base, split: section(runs) });
    expect(md).toContain('## Mixed reads and writes (90% / 10%): the split listener, the primary listener and Pgpool-II');
    expect(md).toContain('| 8 | router split | 3200 | 1.000 / 5.500 | 4.000 / 9.000 | 90.0% of 20000 | 0 of 1000 | 0 | 0 | ');
    expect(md).toContain('| 8 | Pgpool-II | 3500 | 1.000 / 5.500 | 4.000 / 9.000 | 100.0% of 20000 | 300 of 800 | 0 | 0 | n/a |');
    expect(md).toContain('| 8 | 0.914 | 0.640 | 0.700 |');
    expect(md).toContain(
      '| c=8 rep 1 | router split | 2.50 | 3400 | 6.000 | pg0* 1500/1111, pg1 8500/0 | 10000/1111 of 11111 | 0 | 0 / 500 (0% on replicas) | 3.5 ms / 2 kB | - |',
    );
    expect(md).toContain('`primary:consistency`');
    expect(md).toContain("| mixed 90/10, 8 clients: split listener TPS >= Pgpool-II's | 3200 vs 3500 (0.914x) | NO |");
    expect(md).toContain('<details><summary>Pgpool-II: configuration</summary>');
  });

  it('leaves out the parts a partial run did not run, and their targets', () => {
    const md = renderMarkdown({ ...base, sections: ['split'], split: section(runs) });
    expect(md).toContain('Parts run: split. Scale 10; Patroni ttl 30 s');
    for (const absent of [
      '## Throughput',
      '## Connection churn',
      '## Planned switchover',
      '## CPU of the proxies',
      '## Memory of the proxies',
      'pgbench -S, 8 clients',
      'idle sessions: router RSS',
    ]) {
      expect(md).not.toContain(absent);
    }
    expect(md).toContain('## Mixed reads and writes');
    expect(judgeTargets({ ...base, sections: ['split'], split: section(runs) }).every((c) => c.target.startsWith('mixed'))).toBe(true);
  });
});

describe('which run latest.md shows', () => {
  const all = ['throughput', 'churn', 'idle', 'split', 'switchover', 'crash'];
  it('is a full run of every part, not a quick or partial one', () => {
    expect(isReferenceRun({ mode: 'full', sections: all }, all)).toBe(true);
    expect(isReferenceRun({ mode: 'full', sections: ['split'] }, all)).toBe(false);
    expect(isReferenceRun({ mode: 'quick', sections: all }, all)).toBe(false);
    // Results from before the list was kept ran every part there was.
    expect(isReferenceRun({ mode: 'full' }, all)).toBe(true);
  });
});
