/**
 * The relay prototypes against the bare pipe, HAProxy and the router, interleaved in one run on
 * one cluster: pgbench -S with 8 and 32 clients and pgbench -C -S (churn), each run's proxy CPU
 * read from /proc (user and system apart). Most prototypes run beside "stream neighbours", as a
 * relay inside the router does (stream-neighbours.ts).
 * `node dist/bench/relay-prototypes/compare.js [--seconds=4] [--repetitions=2]`
 * Results: bench/results/relay-prototypes-<date>.md and .json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startCluster } from '../../test/cluster/index.js';
import { initialisePgbench, runPgbench, type PgbenchTarget } from '../pgbench-runner.js';
import { UsageSampler, type UsageDuring } from '../process-usage.js';
import { startBarePipe, startHaproxy, startRouter, type ProxyProcess } from '../proxy-process.js';
import { rotatedOrder } from '../rotation.js';
import { renderComparison, type ComparisonRun } from './comparison-table.js';
import { startPrototype, type PrototypeSpec } from './prototype-process.js';

const PROTOTYPES: readonly PrototypeSpec[] = [
  { label: 'current', kind: 'current', neighbours: false, inWorker: false },
  { label: 'current+neighbours', kind: 'current', neighbours: true, inWorker: false },
  { label: 'pipe-only+neighbours', kind: 'pipe-only', neighbours: true, inWorker: false },
  { label: 'corking+neighbours', kind: 'corking', neighbours: true, inWorker: false },
  { label: 'onread+neighbours', kind: 'onread', neighbours: true, inWorker: false },
  { label: 'current in a worker, neighbours in main', kind: 'current', neighbours: true, inWorker: true },
];

const WORKLOADS: ReadonlyArray<{ name: string; args: readonly string[]; clients: number }> = [
  { name: 'select c=8', args: ['-S'], clients: 8 },
  { name: 'select c=32', args: ['-S'], clients: 32 },
  { name: 'churn c=8', args: ['-C', '-S'], clients: 8 },
];

function option(name: string, fallback: number): number {
  const value = process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const parsed = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name}: expected a positive integer, got ${value}`);
  return parsed;
}

const progress = (line: string): void => void process.stderr.write(`[compare] ${line}\n`);

async function main(): Promise<void> {
  const seconds = option('seconds', 4);
  const repetitions = option('repetitions', 2);
  const loadAtStart = os.loadavg();
  const undo: Array<() => Promise<void>> = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-compare-'));
  undo.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const logDir = path.join(dir, 'pgbench-logs');
  fs.mkdirSync(logDir);
  try {
    progress('starting a 3-member cluster (ssl off)');
    const cluster = await startCluster({ members: 3, ssl: false, ttl: 30, loopWait: 10, retryTimeout: 10 });
    undo.push(() => cluster.stop());
    const leader = cluster.member(await cluster.waitForHealthy({ timeoutMs: 180_000 }));
    const session = { user: 'postgres', database: 'postgres' };
    await initialisePgbench({ host: '127.0.0.1', port: leader.port, ...session }, 10);
    await cluster.sql(leader.name, 'VACUUM ANALYZE');
    const member = { host: '127.0.0.1', port: leader.port };

    const proxies: Array<{ label: string; port: number; proc: ProxyProcess }> = [];
    const [hp, hr, hs, rp, rr, ra, bp] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const haproxy = await startHaproxy(
      { primaryPort: hp, replicaPort: hr, statsPort: hs, maxConnections: 1100, members: cluster.members.map((m) => ({ host: m.host, port: m.port, restPort: m.restPort })) },
      dir,
    );
    undo.push(() => haproxy.stop());
    await haproxy.waitForPrimary(member.host, member.port);
    proxies.push({ label: 'HAProxy', port: hp, proc: haproxy });
    const bare = await startBarePipe(bp, member, dir);
    undo.push(() => bare.stop());
    proxies.push({ label: 'bare pipe', port: bp, proc: bare });
    const router = await startRouter(
      { scope: cluster.scope, namespace: cluster.namespace, etcdEndpoint: cluster.etcd.endpoint, primaryPort: rp, replicaPort: rr, adminPort: ra },
      dir,
      session,
    );
    undo.push(() => router.stop());
    proxies.push({ label: 'router', port: rp, proc: router });
    for (const spec of PROTOTYPES) {
      const port = await freePort();
      const proc = await startPrototype(spec, port, member, dir);
      undo.push(() => proc.stop());
      proxies.push({ label: spec.label, port, proc });
    }

    const runs: ComparisonRun[] = [];
    let cell = 0;
    for (let repetition = 0; repetition < repetitions; repetition++) {
      for (const workload of WORKLOADS) {
        for (const proxy of rotatedOrder(proxies, repetition + cell++)) {
          const target: PgbenchTarget = { host: '127.0.0.1', port: proxy.port, ...session };
          const sampler = new UsageSampler(proxy.proc.pid);
          let usage: UsageDuring;
          try {
            const result = await runPgbench(target, {
              args: [...workload.args],
              seconds,
              clients: workload.clients,
              threads: 2,
              ...(workload.args.includes('-C') ? {} : { logDir }),
              label: `${workload.name}-${proxy.label}-${repetition}`,
            });
            usage = sampler.stop();
            runs.push({
              proxy: proxy.label,
              workload: workload.name,
              repetition,
              tps: result.tps,
              p99Ms: result.p99Ms ?? Number.NaN,
              transactions: result.transactions,
              usage,
              errors: result.errors,
            });
          } catch (error) {
            usage = sampler.stop();
            runs.push({
              proxy: proxy.label,
              workload: workload.name,
              repetition,
              tps: Number.NaN,
              p99Ms: Number.NaN,
              transactions: 0,
              usage,
              errors: [(error as Error).message.slice(0, 300)],
            });
          }
          const last = runs[runs.length - 1];
          progress(
            `${workload.name} ${proxy.label} rep ${repetition}: ${last?.tps.toFixed(0)} tps, CPU ${usage.cpuSeconds.toFixed(2)} s${last?.errors.length ? ` ERRORS ${last.errors[0]}` : ''}`,
          );
        }
      }
    }

    const date = new Date().toISOString();
    const markdown = renderComparison({ date, seconds, repetitions, load: { start: loadAtStart, end: os.loadavg() }, cpus: os.cpus().length, runs, prototypes: PROTOTYPES });
    const resultsDir = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
    const stamp = date.replace(/\.\d+Z$/, '').replace(/:/g, '-');
    fs.writeFileSync(path.join(resultsDir, `relay-prototypes-${stamp}.json`), `${JSON.stringify({ date, seconds, repetitions, runs }, null, 2)}\n`);
    fs.writeFileSync(path.join(resultsDir, `relay-prototypes-${stamp}.md`), markdown);
    process.stdout.write(markdown);
  } finally {
    for (const step of undo.reverse()) await step().catch((error: unknown) => progress(`teardown: ${(error as Error).message}`));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`compare failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
