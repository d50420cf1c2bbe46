/**
 * The report's mixed-workload section: per (clients, endpoint) the medians and totals over the
 * repetitions, every run with its load average, the split listener's routing reasons, and the
 * issue's targets. Pure.
 */
import { fmt, table } from './markdown-table.js';
import { SPLIT_ENDPOINTS, type SplitEndpoint, type SplitRun, type SplitSection } from './results.js';
import { median, ratio } from './statistics.js';

export const SPLIT_NAME: Record<SplitEndpoint, string> = {
  'router-split': 'router split',
  'router-primary': 'router primary',
  pgpool: 'Pgpool-II',
};

export interface SplitCell {
  endpoint: SplitEndpoint;
  clients: number;
  runs: number;
  tps: number;
  latencyAverageMs: number;
  p99Ms: number;
  readP99Ms: number;
  writeP99Ms: number;
  /** Over all its runs: the workload's reads each member ran. */
  replicaReads: number;
  reads: number;
  replicaShare: number;
  writesOnReplicas: number;
  primaryWrites: number;
  checkerIterations: number;
  checkerStale: number;
  checkerReplicaReads: number;
  failedTransactions: number;
  /** CPU seconds of the proxy's processes per 10,000 pgbench transactions. */
  proxyCpuPerTenThousand: number;
  maxReplayLagMs: number;
}

const sum = (runs: readonly SplitRun[], pick: (r: SplitRun) => number): number => runs.reduce((n, r) => n + pick(r), 0);

/** One cell per (clients, endpoint) that ran, clients ascending, endpoints in column order. */
export function splitCells(runs: readonly SplitRun[]): SplitCell[] {
  const cells: SplitCell[] = [];
  const clients = [...new Set(runs.map((r) => r.clients))].sort((a, b) => a - b);
  for (const c of clients) {
    for (const endpoint of SPLIT_ENDPOINTS) {
      const mine = runs.filter((r) => r.clients === c && r.endpoint === endpoint);
      if (mine.length === 0) continue;
      const replicaReads = sum(mine, (r) => r.served.replicaReads);
      const reads = replicaReads + sum(mine, (r) => r.served.primaryReads);
      const measuredCpu = mine.filter((r) => r.proxy && Number.isFinite(r.proxy.cpuSeconds));
      cells.push({
        endpoint,
        clients: c,
        runs: mine.length,
        tps: median(mine.map((r) => r.tps)),
        latencyAverageMs: median(mine.map((r) => r.latencyAverageMs)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        readP99Ms: median(mine.map((r) => r.readP99Ms)),
        writeP99Ms: median(mine.map((r) => r.writeP99Ms)),
        replicaReads,
        reads,
        replicaShare: reads === 0 ? Number.NaN : replicaReads / reads,
        writesOnReplicas: sum(mine, (r) => r.served.writesOnReplicas),
        primaryWrites: sum(mine, (r) => r.served.primaryWrites),
        checkerIterations: sum(mine, (r) => r.checker.iterations),
        checkerStale: sum(mine, (r) => r.checker.stale),
        checkerReplicaReads: sum(mine, (r) => r.checker.replicaReads),
        failedTransactions: sum(mine, (r) => r.failedTransactions),
        proxyCpuPerTenThousand:
          measuredCpu.length === 0
            ? Number.NaN
            : ratio(
                sum(measuredCpu, (r) => r.proxy?.cpuSeconds ?? 0) * 10_000,
                sum(measuredCpu, (r) => r.transactions),
              ),
        maxReplayLagMs: Math.max(...mine.map((r) => r.maxReplayLagMs)),
      });
    }
  }
  return cells;
}

function percent(part: number, whole: number, digits = 1): string {
  return whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(digits)}%`;
}

function cellOf(cells: readonly SplitCell[], endpoint: SplitEndpoint, clients: number): SplitCell | undefined {
  return cells.find((c) => c.endpoint === endpoint && c.clients === clients);
}

export interface SplitTargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

/** Issue 14's targets for the split listener, per client count: reported, never asserted. */
export function judgeSplitTargets(section: SplitSection | undefined): SplitTargetCheck[] {
  if (!section || section.runs.length === 0) return [];
  const cells = splitCells(section.runs);
  const checks: SplitTargetCheck[] = [];
  for (const clients of [...new Set(cells.map((c) => c.clients))]) {
    const split = cellOf(cells, 'router-split', clients);
    const pgpool = cellOf(cells, 'pgpool', clients);
    const label = `mixed 90/10, ${clients} clients`;
    if (!split) {
      checks.push({ target: `${label}: split listener measured`, measured: 'the split listener did not run', met: undefined });
      continue;
    }
    checks.push({
      target: `${label}: >= 90% of replica-safe reads served by replicas (split listener)`,
      measured: `${percent(split.replicaReads, split.reads)} (${split.replicaReads} of ${split.reads}; replicas at most ${fmt(split.maxReplayLagMs, 1)} ms behind)`,
      met: split.reads === 0 ? undefined : split.replicaShare >= 0.9,
    });
    checks.push({
      target: `${label}: 0 stale reads with read-your-writes (checker through the split listener)`,
      measured: `${split.checkerStale} in ${split.checkerIterations} write-then-read iterations`,
      met: split.checkerIterations === 0 ? undefined : split.checkerStale === 0,
    });
    checks.push({
      target: `${label}: 0 writes on a replica (split listener)`,
      measured: `${split.writesOnReplicas} (25006 errors in the replicas' logs)`,
      met: split.writesOnReplicas === 0,
    });
    const tpsRatio = ratio(split.tps, pgpool?.tps);
    checks.push({
      target: `${label}: split listener TPS >= Pgpool-II's`,
      measured: pgpool ? `${fmt(split.tps, 0)} vs ${fmt(pgpool.tps, 0)} (${fmt(tpsRatio, 3)}x)` : 'Pgpool-II did not run',
      met: Number.isFinite(tpsRatio) ? tpsRatio >= 1 : undefined,
    });
  }
  return checks;
}

/** Routing reasons of the split listener, summed per client count, most frequent first. */
function routingTable(runs: readonly SplitRun[]): string | undefined {
  const routed = runs.filter((r) => r.endpoint === 'router-split' && r.routed);
  if (routed.length === 0) return undefined;
  const clients = [...new Set(routed.map((r) => r.clients))].sort((a, b) => a - b);
  const totals = new Map<string, number>();
  for (const r of routed) for (const [k, v] of Object.entries(r.routed ?? {})) totals.set(k, (totals.get(k) ?? 0) + v);
  const keys = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const rows = clients.map((c) => {
    const mine = routed.filter((r) => r.clients === c);
    const all = sum(mine, (r) => Object.values(r.routed ?? {}).reduce((a, b) => a + b, 0));
    return [
      String(c),
      ...keys.map((k) => {
        const n = sum(mine, (r) => r.routed?.[k] ?? 0);
        return `${n} (${percent(n, all)})`;
      }),
      String(sum(mine, (r) => r.retriedOnPrimary ?? 0)),
    ];
  });
  return table(['clients', ...keys.map((k) => `\`${k}\``), '25006 retried on the primary'], rows);
}

function runsTable(runs: readonly SplitRun[]): string {
  const rows = runs.map((r) => [
    `c=${r.clients} rep ${r.repetition}`,
    SPLIT_NAME[r.endpoint],
    fmt(r.loadAverage, 2),
    fmt(r.tps, 0),
    fmt(r.p99Ms, 3),
    r.served.members.map((m) => `${m.member}${m.role === 'primary' ? '*' : ''} ${m.reads}/${m.writes}`).join(', '),
    `${r.pgbenchReads}/${r.pgbenchWrites} of ${r.transactions}`,
    String(r.served.writesOnReplicas),
    `${r.checker.stale} / ${r.checker.iterations} (${percent(r.checker.replicaReads, r.checker.iterations, 0)} on replicas)`,
    `${fmt(r.maxReplayLagMs, 1)} ms / ${fmt(r.maxReplayLagBytes / 1024, 0)} kB`,
    [
      r.failedTransactions > 0 ? `${r.failedTransactions} failed` : '',
      Object.keys(r.served.otherReplicaErrors).length > 0
        ? `replica errors ${Object.entries(r.served.otherReplicaErrors)
            .map(([k, v]) => `${k}×${v}`)
            .join(', ')}`
        : '',
      ...r.errors.slice(0, 2),
    ]
      .filter((x) => x !== '')
      .join('; ') || '-',
  ]);
  return table(
    [
      'run',
      'endpoint',
      'load (1 min)',
      'TPS',
      'p99 ms',
      'reads/writes run by each member (* primary)',
      'pgbench reads/writes of total',
      'writes on replicas',
      'checker stale / iterations',
      'max replica lag',
      'errors',
    ],
    rows,
  );
}

export function splitSection(section: SplitSection | undefined): string[] {
  if (!section) return [];
  const out = ['## Mixed reads and writes (90% / 10%): the split listener, the primary listener and Pgpool-II', ''];
  if (section.runs.length === 0) {
    out.push('No runs.', '');
    return out;
  }
  const cells = splitCells(section.runs);
  out.push(
    `Each pgbench client is one autocommit session choosing per transaction a point SELECT on pgbench_accounts (weight 9) or an UPDATE of one row (weight 1), \`-M simple\`, ` +
      `${section.seconds} s per run, ${section.repetitions} interleaved repetition(s) per cell (median TPS and p99 shown; shares and counts are totals over the repetitions), as \`${section.user}\`. ` +
      `Beside each run a checker session through the same endpoint writes a new value to its own row and reads it back at once, one iteration every ${section.checkerIntervalMs} ms at most; every other write runs in a transaction of its own (BEGIN, UPDATE, COMMIT).`,
  );
  out.push('');
  const rows = cells.map((c) => [
    String(c.clients),
    SPLIT_NAME[c.endpoint],
    fmt(c.tps, 0),
    `${fmt(c.latencyAverageMs, 3)} / ${fmt(c.p99Ms, 3)}`,
    `${fmt(c.readP99Ms, 3)} / ${fmt(c.writeP99Ms, 3)}`,
    `${percent(c.replicaReads, c.reads)} of ${c.reads}`,
    `${c.checkerStale} of ${c.checkerIterations}`,
    String(c.writesOnReplicas),
    String(c.failedTransactions),
    fmt(c.proxyCpuPerTenThousand, 3),
  ]);
  out.push(
    table(
      [
        'clients',
        'endpoint',
        'TPS',
        'latency avg / p99 ms',
        'p99 read / write ms',
        'reads served by replicas',
        'stale reads (checker)',
        'writes that reached a replica',
        'failed tx',
        'proxy CPU s / 10k tx',
      ],
      rows,
    ),
  );
  out.push('');
  const ratioRows = [...new Set(cells.map((c) => c.clients))].map((clients) => {
    const of = (e: SplitEndpoint): number | undefined => cellOf(cells, e, clients)?.tps;
    return [
      String(clients),
      fmt(ratio(of('router-split'), of('pgpool')), 3),
      fmt(ratio(of('router-split'), of('router-primary')), 3),
      fmt(ratio(of('pgpool'), of('router-primary')), 3),
    ];
  });
  out.push(table(['clients', 'TPS split / Pgpool-II', 'TPS split / primary listener', 'TPS Pgpool-II / primary listener'], ratioRows));
  out.push('');
  out.push(
    "How each figure is counted. Reads served by replicas: each member's pg_stat_statements `calls` of the read statement, before and after the run (only the bench role is tracked, and no other part of the bench runs that statement), so every read any member ran is counted once, where it ran. " +
      "Writes that reached a replica: the `25006` ERROR lines each replica logged during the run (log_line_prefix carries the SQLSTATE); a hot standby refuses every write with 25006 and keeps no other trace of it. The write statement's calls on the primary are in the per-run table beside pgbench's own counts " +
      "(pgbench's per-script counts may leave out each client's last transaction as -T ends; the members' counts include it). Stale reads: the checker's reads that did not return the value its session had just written (or no row).",
  );
  out.push('');
  const routing = routingTable(section.runs);
  if (routing) {
    out.push(
      "The split listener's own account of its units (`patroni_router_statements_routed_total` deltas, pgbench's and the checker's sessions together; `primary:consistency` is a read sent to the primary because no replica was known to have replayed the session's last write in time):",
    );
    out.push('');
    out.push(routing);
    out.push('');
  }
  out.push('Every run, in the order they ran:');
  out.push('');
  out.push(runsTable(section.runs));
  out.push('');
  for (const [what, text] of [
    ['The router (split and primary listeners)', section.routerConfig],
    ['Pgpool-II', section.pgpoolConfig],
  ] as const) {
    if (text === '') continue;
    out.push(`<details><summary>${what}: configuration</summary>`, '', '```', text.trimEnd(), '```', '', '</details>', '');
  }
  return out;
}
