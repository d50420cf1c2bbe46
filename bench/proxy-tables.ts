/**
 * The report's side-by-side tables of the endpoints (throughput, latency, churn, CPU, memory),
 * with the ratios issue 11 asks for: router/HAProxy and router/bare pipe. Columns appear only
 * for endpoints that ran (router-workers lights up once the router has `workers`). Pure.
 */
import { fmt, table } from './markdown-table.js';
import { PROXIES, type BenchResults, type Endpoint, type Workload } from './results.js';
import { churnMedian, cpuSecondsPerTenThousand, endpointsMeasured, peakRssKb, throughputRows } from './run-aggregates.js';
import { ratio } from './statistics.js';

export const WORKLOAD_LABEL: Record<Workload, string> = {
  'select-simple': 'pgbench -S (simple)',
  'select-prepared': 'pgbench -S -M prepared',
  tpcb: 'TPC-B-like (default)',
};

const NAME: Record<Endpoint, string> = {
  direct: 'direct',
  haproxy: 'HAProxy',
  'bare-pipe': 'bare pipe',
  router: 'router',
  'router-workers': 'router workers',
};

/** The ratios a row states: each router column against HAProxy and against the bare pipe. */
function ratioColumns(present: readonly Endpoint[]): Array<{ label: string; of: Endpoint; to: Endpoint }> {
  const pairs: Array<{ label: string; of: Endpoint; to: Endpoint }> = [];
  for (const of of ['router', 'router-workers'] as const) {
    if (!present.includes(of)) continue;
    for (const to of ['haproxy', 'bare-pipe'] as const) if (present.includes(to)) pairs.push({ label: `${NAME[of]}/${NAME[to]}`, of, to });
  }
  return pairs;
}

export function throughputTable(results: BenchResults): string[] {
  const present = endpointsMeasured(results.throughput);
  const ratios = ratioColumns(present);
  const rows = throughputRows(results.throughput).map((row) => [
    WORKLOAD_LABEL[row.workload],
    String(row.clients),
    ...present.map((e) => fmt(row.cells[e]?.tps, 0)),
    ...ratios.map((r) => fmt(ratio(row.cells[r.of]?.tps, row.cells[r.to]?.tps), 3)),
  ]);
  const out = ['## Throughput (through the primary)', ''];
  out.push(table(['workload', 'clients', ...present.map((e) => `TPS ${NAME[e]}`), ...ratios.map((r) => r.label)], rows));
  const failed = results.throughput.filter((r) => r.failedTransactions > 0 || r.errors.length > 0);
  if (failed.length > 0) {
    out.push('');
    out.push(
      `Runs with failures: ${failed.map((r) => `${r.workload}/${r.clients}/${r.endpoint}#${r.repetition}: ${r.failedTransactions} failed${r.errors[0] ? ` (${r.errors[0]})` : ''}`).join('; ')}`,
    );
  }
  out.push('');
  return out;
}

export function latencyTable(results: BenchResults): string[] {
  const present = endpointsMeasured(results.throughput);
  const ratios = ratioColumns(present);
  const rows = throughputRows(results.throughput).map((row) => [
    WORKLOAD_LABEL[row.workload],
    String(row.clients),
    ...present.map((e) => `${fmt(row.cells[e]?.latencyAverageMs, 3)} / ${fmt(row.cells[e]?.p99Ms, 3)}`),
    ...ratios.map((r) => fmt(ratio(row.cells[r.of]?.p99Ms, row.cells[r.to]?.p99Ms), 3)),
  ]);
  return [
    '## Latency: average / p99 ms (p99 from pgbench --log, every transaction)',
    '',
    table(['workload', 'clients', ...present.map((e) => NAME[e]), ...ratios.map((r) => `p99 ${r.label}`)], rows),
    '',
  ];
}

export function churnTable(results: BenchResults): string[] {
  const present = endpointsMeasured(results.churn);
  const perSecond = (e: Endpoint): number => churnMedian(results.churn, e).perSecond;
  const against = (['direct', 'haproxy', 'bare-pipe'] as const).filter((e) => present.includes(e));
  const rows = present.map((e) => {
    const c = churnMedian(results.churn, e);
    return [NAME[e], fmt(c.perSecond, 0), fmt(c.connectMs, 3), ...against.map((to) => fmt(ratio(c.perSecond, perSecond(to)), 3))];
  });
  return [
    '## Connection churn (pgbench -C -S: every transaction on a new connection)',
    '',
    table(['endpoint', 'new connections/s', 'avg connect ms', ...against.map((to) => `vs ${NAME[to]}`)], rows),
    '',
  ];
}

export function cpuTable(results: BenchResults): string[] {
  const proxies = PROXIES.filter((e) => results.throughput.some((r) => r.endpoint === e && r.proxy));
  const haproxy = cpuSecondsPerTenThousand(results.throughput, 'haproxy');
  const bare = cpuSecondsPerTenThousand(results.throughput, 'bare-pipe');
  const hasBare = proxies.includes('bare-pipe');
  const overall = proxies.map((e) => {
    const c = cpuSecondsPerTenThousand(results.throughput, e);
    return [
      NAME[e],
      fmt(c.cpu, 3),
      fmt(c.user, 3),
      fmt(c.system, 3),
      fmt(ratio(c.cpu, haproxy.cpu), 3),
      ...(hasBare ? [fmt(ratio(c.cpu, bare.cpu), 3), fmt(ratio(c.user, bare.user), 3)] : []),
    ];
  });
  const cells = throughputRows(results.throughput).map((row) => {
    const cell = { workload: row.workload, clients: row.clients };
    const of = (e: Endpoint): number => cpuSecondsPerTenThousand(results.throughput, e, cell).cpu;
    return [
      WORKLOAD_LABEL[row.workload],
      String(row.clients),
      ...proxies.map((e) => fmt(of(e), 3)),
      fmt(ratio(of('router'), of('haproxy')), 3),
      ...(hasBare ? [fmt(ratio(of('router'), of('bare-pipe')), 3)] : []),
    ];
  });
  return [
    '## CPU of the proxies: CPU seconds per 10,000 transactions',
    '',
    "utime + stime from /proc/<pid>/stat of every process of the proxy, read before and after each throughput run, over the transactions of that run. User time is the proxy's own work; system time is mostly the kernel's send and receive, which any relay pays.",
    '',
    table(['proxy', 'CPU s / 10k tx', 'user', 'system', 'vs HAProxy', ...(hasBare ? ['vs bare pipe', 'user vs bare pipe'] : [])], overall),
    '',
    table(['workload', 'clients', ...proxies.map((e) => NAME[e]), 'router/HAProxy', ...(hasBare ? ['router/bare pipe'] : [])], cells),
    '',
  ];
}

export function memoryTable(results: BenchResults): string[] {
  const idle = results.idle;
  const proxies = PROXIES.filter((e) => idle?.[e] !== undefined || results.throughput.some((r) => r.endpoint === e && r.proxy));
  const rows = proxies.map((e) => {
    const reading = idle?.[e];
    return [
      NAME[e],
      reading ? String(reading.processes ?? 1) : 'n/a',
      reading ? fmt(reading.rssBeforeKb / 1024, 1) : 'n/a',
      reading ? fmt(reading.rssWithSessionsKb / 1024, 1) : 'n/a',
      reading ? fmt((reading.rssWithSessionsKb - reading.rssBeforeKb) / (idle?.sessions ?? 1000), 1) : 'n/a',
      reading ? fmt(reading.cpuSecondsToOpen, 2) : 'n/a',
      fmt(peakRssKb(results.throughput, e) / 1024, 1),
    ];
  });
  const out = ['## Memory of the proxies', ''];
  out.push(
    table(
      ['proxy', 'processes', 'RSS before MB', `RSS with ${idle?.sessions ?? 1000} idle sessions MB`, 'kB per session', 'CPU s to open them', 'peak RSS during throughput MB'],
      rows,
    ),
  );
  if (idle) {
    out.push('');
    out.push(`Idle sessions: ${idle.how}${idle.errors.length ? ` Errors: ${idle.errors.join('; ')}` : ''}`);
    const shrank = proxies.filter((e) => (idle[e]?.rssWithSessionsKb ?? 0) < (idle[e]?.rssBeforeKb ?? 0));
    if (shrank.length > 0) {
      out.push(
        `For ${shrank.map((e) => NAME[e]).join(', ')} the RSS fell while the sessions opened: garbage left by the throughput runs was collected meanwhile, so the RSS with the sessions open is the figure to compare, not the difference.`,
      );
    }
  }
  out.push('');
  return out;
}
