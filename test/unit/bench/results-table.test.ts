import { describe, expect, it } from 'vitest';
import type { BenchResults, FailoverRound, ThroughputRun } from '../../../bench/results.js';
import { cpuSecondsPerTenThousand, judgeTargets, renderMarkdown, throughputRows } from '../../../bench/results-table.js';
import { judgeWrites, type WriteAttempt } from '../../../bench/write-attempts.js';

function run(endpoint: ThroughputRun['endpoint'], repetition: number, tps: number, p99Ms: number, cpuSeconds?: number): ThroughputRun {
  return {
    workload: 'select-simple',
    clients: 8,
    endpoint,
    repetition,
    tps,
    latencyAverageMs: 1,
    p99Ms,
    transactions: tps * 10,
    failedTransactions: 0,
    errors: [],
    ...(cpuSeconds === undefined ? {} : { proxy: { peakRssKb: 20_000, cpuSeconds, userSeconds: cpuSeconds / 4, systemSeconds: (3 * cpuSeconds) / 4, processes: 1 } }),
  };
}

function outage(gapMs: number, extra: WriteAttempt[] = []) {
  return judgeWrites([{ startedAt: 0, at: 1000, step: 'insert', ok: true }, ...extra, { startedAt: 0, at: 1000 + gapMs, step: 'insert', ok: true }], 1001);
}

function round(oracleGap: number, haproxyGap: number, routerGap: number, routerExtra: WriteAttempt[] = []): FailoverRound {
  return {
    kind: 'switchover',
    round: 1,
    from: 'pg0',
    to: 'pg1',
    leaderChangeMs: 2000,
    outages: { oracle: outage(oracleGap), haproxy: outage(haproxyGap), router: outage(routerGap, routerExtra) },
    lostAcknowledged: { oracle: 0, haproxy: 0, router: 0 },
  };
}

function results(over: Partial<BenchResults> = {}): BenchResults {
  return {
    date: '2026-01-01T00:00:00.000Z',
    mode: 'quick',
    machine: { cpus: 2, cpuModel: 'test', memoryMb: 4096, kernel: '6.1', hostname: 'h' },
    versions: { node: 'v20' },
    settings: { pgbenchSeconds: 5, repetitions: 2, scale: 10, ttl: 30, loopWait: 10, haproxyConfig: '' },
    throughput: [
      run('direct', 0, 1000, 1),
      run('haproxy', 0, 900, 2, 1),
      run('router', 0, 880, 2.1, 2),
      run('direct', 1, 1100, 1),
      run('haproxy', 1, 1000, 2, 1),
      run('router', 1, 960, 2.3, 2),
    ],
    churn: [],
    switchovers: [round(1300, 6000, 1350)],
    crashes: [],
    idle: { sessions: 1000, how: 'test', errors: [], router: { rssBeforeKb: 50_000, rssWithSessionsKb: 120_000, cpuSecondsToOpen: 1 } },
    notes: ['a note'],
    ...over,
  };
}

describe('bench report', () => {
  it('takes medians per cell over repetitions', () => {
    const [row] = throughputRows(results().throughput);
    expect(row?.cells.router?.tps).toBe(920);
    expect(row?.cells.haproxy?.tps).toBe(950);
    expect(row?.cells.router?.p99Ms).toBeCloseTo(2.2);
    expect(row?.cells.direct?.runs).toBe(2);
  });

  it('states proxy CPU seconds per 10,000 transactions, user and system apart', () => {
    // 4 CPU s over 18,400 transactions
    const router = cpuSecondsPerTenThousand(results().throughput, 'router');
    expect(router.cpu).toBeCloseTo((4 * 1e4) / 18_400);
    expect(router.user).toBeCloseTo((1 * 1e4) / 18_400);
    expect(router.system).toBeCloseTo((3 * 1e4) / 18_400);
    expect(cpuSecondsPerTenThousand(results().throughput, 'direct').cpu).toBeNaN();
  });

  it('leaves user and system unstated for results that predate them', () => {
    const old = results().throughput.map((r) => (r.proxy ? { ...r, proxy: { peakRssKb: r.proxy.peakRssKb, cpuSeconds: r.proxy.cpuSeconds } } : r));
    expect(cpuSecondsPerTenThousand(old, 'router').cpu).toBeCloseTo((4 * 1e4) / 18_400);
    expect(cpuSecondsPerTenThousand(old, 'router').user).toBeNaN();
  });

  it('adds the bare pipe and router-workers columns, and their ratios, only when they ran', () => {
    const base = results();
    expect(renderMarkdown(base)).not.toContain('bare pipe');
    const md = renderMarkdown(
      results({
        throughput: [...base.throughput, run('bare-pipe', 0, 1000, 1.5, 1.5), run('bare-pipe', 1, 1000, 1.5, 1.5), run('router-workers', 0, 1900, 1.2, 3)],
        routerColumns: { router: '1', routerWorkers: 'auto', routerWorkersRan: true },
      }),
    );
    expect(md).toContain(
      '| workload | clients | TPS direct | TPS HAProxy | TPS bare pipe | TPS router | TPS router workers | router/HAProxy | router/bare pipe | router workers/HAProxy | router workers/bare pipe |',
    );
    expect(md).toContain('| pgbench -S (simple) | 8 | 1050 | 950 | 1000 | 920 | 1900 | 0.968 | 0.920 | 2.000 | 1.900 |');
    expect(md).toContain('"router" ran with workers: 1; "router-workers" with workers: auto.');
  });

  it('says why the router-workers column is missing', () => {
    const md = renderMarkdown(
      results({ routerColumns: { router: '', routerWorkers: 'auto', routerWorkersRan: false, routerWorkersWhy: 'the router has no `workers` setting yet' } }),
    );
    expect(md).toContain('"router" ran without a `workers` setting (one process); "router-workers" (workers: auto) did not run: the router has no `workers` setting yet.');
  });

  it('judges the targets from the measurements', () => {
    const checks = Object.fromEntries(judgeTargets(results()).map((c) => [c.target, c]));
    expect(checks['pgbench -S, 8 clients: router TPS >= 0.95x HAProxy']).toMatchObject({ measured: '0.968x', met: true });
    expect(checks['pgbench -S, 8 clients: router p99 <= 1.1x HAProxy']).toMatchObject({ measured: '1.100x', met: true });
    expect(checks["switchover: router write gap within 100 ms of the oracle's"]).toMatchObject({ measured: 'worst excess 50 ms', met: true });
    expect(checks['switchover: zero router writes reaching a non-primary']?.met).toBe(true);
    expect(checks['1000 idle sessions: router RSS < 150 MB']).toMatchObject({ measured: '117.2 MB', met: true });
    expect(checks['crash failover: router measured']?.met).toBeUndefined();
  });

  it('fails a target when the router sent a write to a replica or was slow', () => {
    const readOnly: WriteAttempt = { startedAt: 1100, at: 1101, step: 'insert', ok: false, code: '25006', message: 'read-only' };
    const checks = Object.fromEntries(judgeTargets(results({ switchovers: [round(1300, 6000, 1500, [readOnly])] })).map((c) => [c.target, c]));
    expect(checks['switchover: zero router writes reaching a non-primary']).toMatchObject({ measured: '1 in 1 round(s)', met: false });
    expect(checks["switchover: router write gap within 100 ms of the oracle's"]?.met).toBe(false);
  });

  it('renders Markdown tables with ratios, leaving out a writer that never ran', () => {
    const md = renderMarkdown(results());
    expect(md).toContain('| pgbench -S (simple) | 8 | 1050 | 950 | 920 | 0.968 |');
    expect(md).toContain('| pgbench -S (simple) | 8 | 1.000 / 1.000 | 1.000 / 2.000 | 1.000 / 2.200 | 1.100 |');
    expect(md).toContain('| oracle | 1300 / 1300 | - | 0 | 0 |');
    expect(md).toContain('| router | 1350 / 1350 | 50 / 50 | 0 | 0 |');
    expect(md).toContain('- a note');
    const noRouter = results();
    for (const r of noRouter.switchovers) r.outages.router = { ...r.outages.router, attempts: 0 };
    expect(renderMarkdown(noRouter)).not.toMatch(/\| router \| 1350/);
  });
});
