/** From raw runs to per-cell and per-endpoint numbers: medians, CPU per transaction, peaks. Pure. */
import { ENDPOINTS, type ChurnRun, type Endpoint, type ThroughputRun, type Workload } from './results.js';
import { median, ratio } from './statistics.js';

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
      rows.push({
        workload: run.workload,
        clients: run.clients,
        cells: { direct: undefined, haproxy: undefined, 'bare-pipe': undefined, router: undefined, 'router-workers': undefined },
      });
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

/** The endpoints that have at least one run, in column order. */
export function endpointsMeasured(runs: ReadonlyArray<{ endpoint: Endpoint }>): Endpoint[] {
  return ENDPOINTS.filter((e) => runs.some((r) => r.endpoint === e));
}

export interface CpuPerTenThousand {
  cpu: number;
  user: number;
  system: number;
}

/**
 * Proxy CPU seconds (all its processes) per 10,000 transactions over the throughput runs through
 * it, optionally of one (workload, clients) cell: machine load stretches wall time, not so much
 * the CPU one transaction costs, so this compares proxies better than TPS on a shared machine.
 */
export function cpuSecondsPerTenThousand(runs: readonly ThroughputRun[], endpoint: Endpoint, cell?: { workload: Workload; clients: number }): CpuPerTenThousand {
  const mine = runs.filter(
    (r) => r.endpoint === endpoint && r.proxy && Number.isFinite(r.proxy.cpuSeconds) && (!cell || (r.workload === cell.workload && r.clients === cell.clients)),
  );
  const tx = mine.reduce((s, r) => s + r.transactions, 0);
  const per = (pick: (r: ThroughputRun) => number | undefined): number => {
    if (mine.some((r) => pick(r) === undefined)) return Number.NaN;
    return ratio(mine.reduce((s, r) => s + (pick(r) ?? 0), 0) * 10_000, tx);
  };
  return { cpu: per((r) => r.proxy?.cpuSeconds), user: per((r) => r.proxy?.userSeconds), system: per((r) => r.proxy?.systemSeconds) };
}

export function peakRssKb(runs: readonly ThroughputRun[], endpoint: Endpoint): number {
  const peaks = runs.filter((r) => r.endpoint === endpoint && r.proxy).map((r) => r.proxy?.peakRssKb ?? 0);
  return peaks.length === 0 ? Number.NaN : Math.max(...peaks);
}
