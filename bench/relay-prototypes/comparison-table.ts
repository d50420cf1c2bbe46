/** The relay prototypes' comparison as Markdown: medians, CPU per 10k transactions, ratios. Pure. */
import { fmt, table } from '../markdown-table.js';
import type { UsageDuring } from '../process-usage.js';
import { median, ratio } from '../statistics.js';
import type { PrototypeSpec } from './prototype-process.js';

export interface ComparisonRun {
  proxy: string;
  workload: string;
  repetition: number;
  tps: number;
  p99Ms: number;
  transactions: number;
  usage: UsageDuring;
  errors: string[];
}

export interface Comparison {
  date: string;
  seconds: number;
  repetitions: number;
  load: { start: number[]; end: number[] };
  cpus: number;
  runs: readonly ComparisonRun[];
  prototypes: readonly PrototypeSpec[];
}

function cell(runs: readonly ComparisonRun[], proxy: string, workload: string): { tps: number; p99: number; cpu: number; user: number; system: number } {
  const mine = runs.filter((r) => r.proxy === proxy && r.workload === workload && r.transactions > 0);
  const tx = mine.reduce((s, r) => s + r.transactions, 0);
  const per = (pick: (u: UsageDuring) => number): number => ratio(mine.reduce((s, r) => s + pick(r.usage), 0) * 10_000, tx);
  return {
    tps: median(mine.map((r) => r.tps)),
    p99: median(mine.map((r) => r.p99Ms)),
    cpu: per((u) => u.cpuSeconds),
    user: per((u) => u.userSeconds),
    system: per((u) => u.systemSeconds),
  };
}

export function renderComparison(c: Comparison): string {
  const proxies = [...new Set(c.runs.map((r) => r.proxy))];
  const workloads = [...new Set(c.runs.map((r) => r.workload))];
  const avg = (l: number[]): string => l.map((v) => v.toFixed(2)).join(' / ');
  const out: string[] = [
    `# Relay prototypes, interleaved, ${c.date}`,
    '',
    `pgbench -T ${c.seconds} s per run, ${c.repetitions} repetition(s) in rotating order (median TPS shown), scale 10, 3-member cluster with ssl off, all against the leader. ` +
      `Load average (1 / 5 / 15 min) ${avg(c.load.start)} at the start, ${avg(c.load.end)} at the end, on ${c.cpus} CPUs. ` +
      'CPU is utime + stime of the proxy process (all its threads) per 10,000 transactions; for churn a transaction is a whole connection.',
    '',
    "Prototypes (bench/relay-prototypes/relay-proxy.ts: the router's accept and connect settings, no session logic): " +
      c.prototypes.map((p) => `${p.label} = ${p.kind}${p.neighbours ? ' beside stream neighbours' : ''}${p.inWorker ? ' (relay in a worker thread)' : ''}`).join('; ') +
      '.',
    '',
  ];
  for (const workload of workloads) {
    const bare = cell(c.runs, 'bare pipe', workload);
    const haproxy = cell(c.runs, 'HAProxy', workload);
    out.push(`## ${workload}`, '');
    out.push(
      table(
        ['proxy', 'TPS', 'vs bare pipe', 'vs HAProxy', 'p99 ms', 'CPU s / 10k', 'user', 'system', 'CPU vs bare pipe', 'user vs bare pipe'],
        proxies.map((proxy) => {
          const m = cell(c.runs, proxy, workload);
          return [
            proxy,
            fmt(m.tps, 0),
            fmt(ratio(m.tps, bare.tps), 3),
            fmt(ratio(m.tps, haproxy.tps), 3),
            fmt(m.p99, 3),
            fmt(m.cpu, 3),
            fmt(m.user, 3),
            fmt(m.system, 3),
            fmt(ratio(m.cpu, bare.cpu), 3),
            fmt(ratio(m.user, bare.user), 3),
          ];
        }),
      ),
    );
    out.push('');
  }
  const failed = c.runs.filter((r) => r.errors.length > 0);
  if (failed.length > 0) out.push(`Runs with errors: ${failed.map((r) => `${r.workload}/${r.proxy}#${r.repetition}: ${r.errors[0]}`).join('; ')}`, '');
  return out.join('\n');
}
