/**
 * From raw runs to the Markdown report: medians over repetitions, ratios, and the targets the
 * router is measured against (reported, never asserted). Pure.
 */
import { fmt, table } from './markdown-table.js';
import { throughputRows } from './run-aggregates.js';
import { churnTable, cpuTable, latencyTable, memoryTable, throughputTable } from './proxy-tables.js';
import { judgePoolTargets, poolSection } from './pool-tables.js';
import { judgeSplitTargets, splitSection } from './split-tables.js';
import { median, ratio } from './statistics.js';
import { WRITERS, type BenchResults, type FailoverRound, type Writer } from './results.js';

export {
  churnMedian,
  cpuSecondsPerTenThousand,
  endpointsMeasured,
  peakRssKb,
  throughputRows,
  type CpuPerTenThousand,
  type ThroughputCell,
  type ThroughputRow,
} from './run-aggregates.js';

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

/** Whether a part of the bench ran (results that predate the list ran every part there was). */
function ran(results: BenchResults, section: string): boolean {
  return results.sections === undefined || results.sections.includes(section);
}

export function judgeTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const [label, rounds, section] of [
    ['switchover', results.switchovers, 'switchover'],
    ['crash failover', results.crashes, 'crash'],
  ] as const) {
    if (!ran(results, section)) continue;
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
  checks.push(...judgePoolTargets(results.switchovers, results.crashes, ran(results, 'switchover'), ran(results, 'crash')));
  checks.push(...(ran(results, 'throughput') ? throughputTargets(results) : []));
  if (ran(results, 'idle')) {
    const idle = results.idle?.router;
    checks.push({
      target: `${results.idle?.sessions ?? 1000} idle sessions: router RSS < 150 MB`,
      measured: idle ? `${fmt(idle.rssWithSessionsKb / 1024, 1)} MB` : 'not measured',
      met: idle ? idle.rssWithSessionsKb / 1024 < 150 : undefined,
    });
  }
  checks.push(...judgeSplitTargets(results.split));
  return checks;
}

function throughputTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const select8 = throughputRows(results.throughput).find((r) => r.workload === 'select-simple' && r.clients === 8);
  const router = select8?.cells.router;
  const haproxy = select8?.cells.haproxy;
  const tpsRatio = ratio(router?.tps, haproxy?.tps);
  const p99Ratio = ratio(router?.p99Ms, haproxy?.p99Ms);
  checks.push({ target: 'pgbench -S, 8 clients: router TPS >= 0.95x HAProxy', measured: `${fmt(tpsRatio, 3)}x`, met: Number.isFinite(tpsRatio) ? tpsRatio >= 0.95 : undefined });
  checks.push({ target: 'pgbench -S, 8 clients: router p99 <= 1.1x HAProxy', measured: `${fmt(p99Ratio, 3)}x`, met: Number.isFinite(p99Ratio) ? p99Ratio <= 1.1 : undefined });
  return checks;
}

export { fmt } from './markdown-table.js';

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
  return table(
    ['event', 'writer', 'write gap ms', 'excess over oracle ms', 'writes to non-primary', 'failed new connections', 'errors by SQLSTATE/code', 'acknowledged writes lost'],
    rows,
  );
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
      `Versions: ${Object.entries(results.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
  );
  const parts = results.sections === undefined ? '' : `Parts run: ${results.sections.join(', ')}. `;
  // The pgbench settings of the throughput and churn parts; the mixed workload states its own.
  const pgbenchParts = ran(results, 'throughput') || ran(results, 'churn');
  out.push(
    parts +
      (pgbenchParts ? `pgbench -T ${results.settings.pgbenchSeconds} s, scale` : 'Scale') +
      ` ${results.settings.scale}` +
      (pgbenchParts ? `, ${results.settings.repetitions} interleaved repetition(s) per cell (median shown)` : '') +
      `; Patroni ttl ${results.settings.ttl} s, loop_wait ${results.settings.loopWait} s. All on one machine: client, proxies and the three members share its CPUs.`,
  );
  if (results.load) {
    const avg = (l: number[]): string => l.map((v) => v.toFixed(2)).join(' / ');
    out.push(
      `Load average (1 / 5 / 15 min) at the start ${avg(results.load.start)}, at the end ${avg(results.load.end)}, on ${m.cpus} CPUs: other work shares this machine, so compare the ratios of one run, not absolute numbers across runs.`,
    );
  }
  const columns = results.routerColumns;
  if (columns && ran(results, 'throughput')) {
    out.push(
      `Router columns: "router" ran ${columns.router === '' ? 'without a `workers` setting (one process)' : `with workers: ${columns.router}`}; ` +
        (columns.routerWorkersRan
          ? `"router-workers" with workers: ${columns.routerWorkers}.`
          : `"router-workers" (workers: ${columns.routerWorkers}) did not run: ${columns.routerWorkersWhy ?? 'not asked'}.`),
    );
  }
  out.push('');

  if (ran(results, 'throughput')) out.push(...throughputTable(results), ...latencyTable(results));
  if (ran(results, 'churn')) out.push(...churnTable(results));
  for (const [title, rounds, section] of [
    ['Planned switchover', results.switchovers, 'switchover'],
    ["Crash failover (SIGKILL of the leader's Patroni and postgres)", results.crashes, 'crash'],
  ] as const) {
    if (!ran(results, section)) continue;
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
      out.push('');
      out.push(...poolSection(rounds, results.pooledWriter));
    }
    out.push('');
  }

  if (ran(results, 'throughput')) out.push(...cpuTable(results));
  if (ran(results, 'throughput') || ran(results, 'idle')) out.push(...memoryTable(results));
  out.push(...splitSection(results.split));
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
