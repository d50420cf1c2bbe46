/**
 * From raw runs to the Markdown report: medians over repetitions, ratios, and the targets the
 * router is measured against (reported, never asserted). Pure.
 */
import { median, ratio } from './statistics.js';
import {
  ENDPOINTS,
  WRITERS,
  type BenchResults,
  type ChurnRun,
  type Endpoint,
  type FailoverRound,
  type ThroughputRun,
  type Workload,
  type Writer,
} from './results.js';

export interface ThroughputCell {
  tps: number;
  latencyAverageMs: number;
  p99Ms: number;
  runs: number;
  failedTransactions: number;
}

export interface ThroughputRow {
  workload: Workload;
  clients: number;
  cells: Record<Endpoint, ThroughputCell | undefined>;
}

/** Medians per (workload, clients, endpoint), in the order the workloads first appear. */
export function throughputRows(runs: readonly ThroughputRun[]): ThroughputRow[] {
  const rows: ThroughputRow[] = [];
  for (const run of runs) {
    if (!rows.some((r) => r.workload === run.workload && r.clients === run.clients)) {
      rows.push({ workload: run.workload, clients: run.clients, cells: { direct: undefined, haproxy: undefined, router: undefined } });
    }
  }
  for (const row of rows) {
    for (const endpoint of ENDPOINTS) {
      const mine = runs.filter((r) => r.workload === row.workload && r.clients === row.clients && r.endpoint === endpoint);
      if (mine.length === 0) continue;
      row.cells[endpoint] = {
        tps: median(mine.map((r) => r.tps)),
        latencyAverageMs: median(mine.map((r) => r.latencyAverageMs)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        runs: mine.length,
        failedTransactions: mine.reduce((n, r) => n + r.failedTransactions, 0),
      };
    }
  }
  return rows;
}

export function churnMedian(runs: readonly ChurnRun[], endpoint: Endpoint): { perSecond: number; connectMs: number; runs: number } {
  const mine = runs.filter((r) => r.endpoint === endpoint);
  return {
    perSecond: median(mine.map((r) => r.connectionsPerSecond)),
    connectMs: median(mine.map((r) => r.averageConnectionMs)),
    runs: mine.length,
  };
}

/** Proxy CPU milliseconds per 1,000 transactions over all throughput runs through it. */
export function cpuMsPerThousand(runs: readonly ThroughputRun[], endpoint: Endpoint): number {
  const mine = runs.filter((r) => r.endpoint === endpoint && r.proxy && Number.isFinite(r.proxy.cpuSeconds));
  const cpu = mine.reduce((s, r) => s + (r.proxy?.cpuSeconds ?? 0), 0);
  const tx = mine.reduce((s, r) => s + r.transactions, 0);
  return ratio(cpu * 1000 * 1000, tx);
}

export function peakRssKb(runs: readonly ThroughputRun[], endpoint: Endpoint): number {
  const peaks = runs.filter((r) => r.endpoint === endpoint && r.proxy).map((r) => r.proxy?.peakRssKb ?? 0);
  return peaks.length === 0 ? Number.NaN : Math.max(...peaks);
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

function worstExcessMs(rounds: readonly FailoverRound[], writer: 'router' | 'haproxy'): number {
  if (rounds.length === 0) return Number.NaN;
  return Math.max(...rounds.map((r) => r.outages[writer].longestGapMs - r.outages.oracle.longestGapMs));
}

function sumOver(rounds: readonly FailoverRound[], pick: (r: FailoverRound) => number): number {
  return rounds.reduce((s, r) => s + pick(r), 0);
}

export function judgeTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const [label, rounds] of [
    ['switchover', results.switchovers],
    ['crash failover', results.crashes],
  ] as const) {
    if (rounds.length === 0 || rounds.every((r) => r.outages.router.attempts === 0)) {
      checks.push({ target: `${label}: router measured`, measured: rounds.length === 0 ? 'no rounds ran' : 'the router did not run', met: undefined });
      continue;
    }
    const nonPrimary = sumOver(rounds, (r) => r.outages.router.writesToNonPrimary);
    const failedConnects = sumOver(rounds, (r) => r.outages.router.failedConnects);
    const excess = worstExcessMs(rounds, 'router');
    const unrecovered = rounds.filter((r) => !r.outages.router.recovered).length;
    checks.push({ target: `${label}: zero router writes reaching a non-primary`, measured: `${nonPrimary} in ${rounds.length} round(s)`, met: nonPrimary === 0 });
    checks.push({ target: `${label}: zero failed new connections through the router`, measured: `${failedConnects} in ${rounds.length} round(s)`, met: failedConnects === 0 });
    checks.push({
      target: `${label}: router write gap within 100 ms of the oracle's`,
      measured: `worst excess ${fmt(excess, 0)} ms${unrecovered ? `, ${unrecovered} round(s) never recovered` : ''}`,
      met: unrecovered === 0 && excess <= 100,
    });
  }
  const select8 = throughputRows(results.throughput).find((r) => r.workload === 'select-simple' && r.clients === 8);
  const router = select8?.cells.router;
  const haproxy = select8?.cells.haproxy;
  const tpsRatio = ratio(router?.tps, haproxy?.tps);
  const p99Ratio = ratio(router?.p99Ms, haproxy?.p99Ms);
  checks.push({ target: 'pgbench -S, 8 clients: router TPS >= 0.95x HAProxy', measured: `${fmt(tpsRatio, 3)}x`, met: Number.isFinite(tpsRatio) ? tpsRatio >= 0.95 : undefined });
  checks.push({ target: 'pgbench -S, 8 clients: router p99 <= 1.1x HAProxy', measured: `${fmt(p99Ratio, 3)}x`, met: Number.isFinite(p99Ratio) ? p99Ratio <= 1.1 : undefined });
  const idle = results.idle?.router;
  checks.push({
    target: `${results.idle?.sessions ?? 1000} idle sessions: router RSS < 150 MB`,
    measured: idle ? `${fmt(idle.rssWithSessionsKb / 1024, 1)} MB` : 'not measured',
    met: idle ? idle.rssWithSessionsKb / 1024 < 150 : undefined,
  });
  return checks;
}

export function fmt(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  return value.toFixed(digits);
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const WORKLOAD_LABEL: Record<Workload, string> = {
  'select-simple': 'pgbench -S (simple)',
  'select-prepared': 'pgbench -S -M prepared',
  tpcb: 'TPC-B-like (default)',
};

function codes(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? '-' : entries.map(([code, n]) => `${code}×${n}`).join(', ');
}

/** Writers that ran (the router is left out when it could not be started). */
function writersThatRan(rounds: readonly FailoverRound[]): Writer[] {
  return WRITERS.filter((w) => rounds.some((r) => r.outages[w].attempts > 0));
}

function failoverTable(rounds: readonly FailoverRound[]): string {
  const rows: string[][] = [];
  for (const round of rounds) {
    for (const writer of writersThatRan(rounds)) {
      const o = round.outages[writer];
      const excess = writer === 'oracle' ? '-' : fmt(o.longestGapMs - round.outages.oracle.longestGapMs, 0);
      rows.push([
        `${round.kind} ${round.round} (${round.from} → ${round.to}, leader key after ${fmt(round.leaderChangeMs, 0)} ms)`,
        writer,
        `${fmt(o.longestGapMs, 0)}${o.recovered ? '' : ' (never recovered)'}`,
        excess,
        String(o.writesToNonPrimary),
        String(o.failedConnects),
        codes(o.errorsByCode),
        String(round.lostAcknowledged[writer]),
      ]);
    }
  }
  return table(['event', 'writer', 'write gap ms', 'excess over oracle ms', 'writes to non-primary', 'failed new connections', 'errors by SQLSTATE/code', 'acknowledged writes lost'], rows);
}

function failoverSummary(rounds: readonly FailoverRound[]): string {
  const rows = writersThatRan(rounds).map((writer) => {
    const gaps = rounds.map((r) => r.outages[writer].longestGapMs);
    const excess = writer === 'oracle' ? [] : rounds.map((r) => r.outages[writer].longestGapMs - r.outages.oracle.longestGapMs);
    return [
      writer,
      `${fmt(median(gaps), 0)} / ${fmt(Math.max(...gaps), 0)}`,
      writer === 'oracle' ? '-' : `${fmt(median(excess), 0)} / ${fmt(Math.max(...excess), 0)}`,
      String(sumOver(rounds, (r) => r.outages[writer].writesToNonPrimary)),
      String(sumOver(rounds, (r) => r.outages[writer].failedConnects)),
    ];
  });
  return table(['writer', 'gap ms median / worst', 'excess over oracle ms median / worst', 'writes to non-primary (total)', 'failed new connections (total)'], rows);
}

export function renderMarkdown(results: BenchResults): string {
  const out: string[] = [];
  const m = results.machine;
  out.push(`# patroni-router bench, ${results.date} (${results.mode})`);
  out.push('');
  out.push(
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${fmt(m.memoryMb / 1024, 1)} GB RAM, Linux ${m.kernel}. ` +
      `Versions: ${Object.entries(results.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
  );
  out.push(
    `pgbench -T ${results.settings.pgbenchSeconds} s, scale ${results.settings.scale}, ${results.settings.repetitions} interleaved repetition(s) per cell (median shown); ` +
      `Patroni ttl ${results.settings.ttl} s, loop_wait ${results.settings.loopWait} s. All on one machine: client, proxies and the three members share its CPUs.`,
  );
  out.push('');

  out.push('## Throughput and latency (through the primary)');
  out.push('');
  const rows = throughputRows(results.throughput).map((row) => {
    const c = row.cells;
    return [
      WORKLOAD_LABEL[row.workload],
      String(row.clients),
      fmt(c.direct?.tps, 0),
      fmt(c.haproxy?.tps, 0),
      fmt(c.router?.tps, 0),
      fmt(ratio(c.router?.tps, c.haproxy?.tps), 3),
      fmt(ratio(c.router?.tps, c.direct?.tps), 3),
      `${fmt(c.direct?.latencyAverageMs, 3)} / ${fmt(c.haproxy?.latencyAverageMs, 3)} / ${fmt(c.router?.latencyAverageMs, 3)}`,
      `${fmt(c.direct?.p99Ms, 3)} / ${fmt(c.haproxy?.p99Ms, 3)} / ${fmt(c.router?.p99Ms, 3)}`,
      fmt(ratio(c.router?.p99Ms, c.haproxy?.p99Ms), 3),
    ];
  });
  out.push(
    table(
      ['workload', 'clients', 'TPS direct', 'TPS HAProxy', 'TPS router', 'router/HAProxy', 'router/direct', 'avg ms d / h / r', 'p99 ms d / h / r', 'p99 router/HAProxy'],
      rows,
    ),
  );
  const failed = results.throughput.filter((r) => r.failedTransactions > 0 || r.errors.length > 0);
  if (failed.length > 0) {
    out.push('');
    out.push(`Runs with failures: ${failed.map((r) => `${r.workload}/${r.clients}/${r.endpoint}#${r.repetition}: ${r.failedTransactions} failed${r.errors[0] ? ` (${r.errors[0]})` : ''}`).join('; ')}`);
  }
  out.push('');

  out.push('## Connection churn (pgbench -C -S)');
  out.push('');
  const churn = ENDPOINTS.map((e) => ({ e, ...churnMedian(results.churn, e) }));
  const churnDirect = churn.find((c) => c.e === 'direct')?.perSecond;
  const churnHaproxy = churn.find((c) => c.e === 'haproxy')?.perSecond;
  out.push(
    table(
      ['endpoint', 'new connections/s', 'avg connect ms', 'vs direct', 'vs HAProxy'],
      churn.map((c) => [c.e, fmt(c.perSecond, 0), fmt(c.connectMs, 3), fmt(ratio(c.perSecond, churnDirect), 3), fmt(ratio(c.perSecond, churnHaproxy), 3)]),
    ),
  );
  out.push('');

  for (const [title, rounds] of [
    ['Planned switchover', results.switchovers],
    ['Crash failover (SIGKILL of the leader\'s Patroni and postgres)', results.crashes],
  ] as const) {
    out.push(`## ${title}`);
    out.push('');
    if (rounds.length === 0) {
      out.push('No rounds ran.');
    } else {
      out.push(
        'One INSERT every 10 ms per writer, a fresh connection after any error. The oracle connects to each member in turn and writes to the first that accepts: ' +
          'its gap is the physical limit, and its read-only errors and refused connections are its probing, not faults.',
      );
      out.push('');
      out.push(failoverSummary(rounds));
      out.push('');
      out.push(failoverTable(rounds));
    }
    out.push('');
  }

  out.push('## Memory and CPU of the proxies');
  out.push('');
  const idle = results.idle;
  const resRows = (['haproxy', 'router'] as const).map((e) => [
    e,
    idle?.[e] ? fmt(idle[e].rssBeforeKb / 1024, 1) : 'n/a',
    idle?.[e] ? fmt(idle[e].rssWithSessionsKb / 1024, 1) : 'n/a',
    idle?.[e] ? fmt(idle[e].cpuSecondsToOpen, 2) : 'n/a',
    fmt(peakRssKb(results.throughput, e) / 1024, 1),
    fmt(cpuMsPerThousand(results.throughput, e), 1),
  ]);
  out.push(
    table(
      ['proxy', 'RSS before MB (after the throughput runs)', `RSS with ${idle?.sessions ?? 1000} idle sessions MB`, 'CPU s to open them', 'peak RSS during throughput MB', 'CPU ms per 1k transactions'],
      resRows,
    ),
  );
  if (idle) {
    out.push('');
    out.push(`Idle sessions: ${idle.how}${idle.errors.length ? ` Errors: ${idle.errors.join('; ')}` : ''}`);
  }
  out.push('');

  out.push('## Targets (measured, not asserted)');
  out.push('');
  out.push(
    table(
      ['target', 'measured', 'met'],
      judgeTargets(results).map((c) => [c.target, c.measured, c.met === undefined ? 'not measured' : c.met ? 'yes' : 'NO']),
    ),
  );
  if (results.notes.length > 0) {
    out.push('');
    out.push('## Notes');
    out.push('');
    for (const note of results.notes) out.push(`- ${note}`);
  }
  out.push('');
  return out.join('\n');
}
