/**
 * The bench: a real 3-member Patroni cluster, HAProxy with Patroni's template, and the router,
 * measured side by side in one run. `node dist/bench/run.js [--quick] [--only=throughput,churn,idle,switchover,crash]`.
 * Results: bench/results/<date>.json and bench/results/latest.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, waitFor, freePort, newestPostgresBinDir, type PatroniCluster } from '../test/cluster/index.js';
import { failoverRound, type FailoverSetup } from './failover-rounds.js';
import { measureIdleSessions } from './idle-sessions.js';
import { machineFacts, versions } from './machine-facts.js';
import { initialisePgbench } from './pgbench-runner.js';
import { startHaproxy, startRouter, type HaproxyProcess, type RouterProcess } from './proxy-process.js';
import type { BenchResults, IdleSessionsMeasure } from './results.js';
import { renderMarkdown } from './results-table.js';
import { measureChurn, measureThroughput, type MeasuredEndpoint } from './throughput.js';
import { CREATE_WRITES_TABLE } from './writer.js';

const SECTIONS = ['throughput', 'churn', 'idle', 'switchover', 'crash'] as const;
type Section = (typeof SECTIONS)[number];

interface Plan {
  mode: 'quick' | 'full';
  seconds: number;
  repetitions: number;
  churnSeconds: number;
  switchovers: number;
  crashes: number;
  idleSessions: number;
  scale: number;
  ttl: number;
  loopWait: number;
  retryTimeout: number;
}

const QUICK: Plan = { mode: 'quick', seconds: 4, repetitions: 2, churnSeconds: 5, switchovers: 2, crashes: 1, idleSessions: 1000, scale: 10, ttl: 30, loopWait: 10, retryTimeout: 10 };
const FULL: Plan = { mode: 'full', seconds: 15, repetitions: 3, churnSeconds: 10, switchovers: 6, crashes: 2, idleSessions: 1000, scale: 10, ttl: 30, loopWait: 10, retryTimeout: 10 };
const USER = 'postgres';
const DATABASE = 'postgres';
/** Room for 1,000 idle sessions plus the writers and pgbench, on every member (replicas need >= the primary's). */
const MAX_CONNECTIONS = 1200;

function parseArgs(argv: readonly string[]): { plan: Plan; sections: Set<Section> } {
  const plan = argv.includes('--quick') ? QUICK : FULL;
  const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const sections = new Set<Section>(SECTIONS);
  if (only) {
    sections.clear();
    for (const word of only.split(',')) {
      if (!(SECTIONS as readonly string[]).includes(word)) throw new Error(`--only: unknown section "${word}" (known: ${SECTIONS.join(', ')})`);
      sections.add(word as Section);
    }
  }
  for (const arg of argv) {
    if (arg !== '--quick' && !arg.startsWith('--only=')) throw new Error(`unknown argument "${arg}" (use --quick, --only=${SECTIONS.join(',')})`);
  }
  return { plan, sections };
}

const started = Date.now();
function progress(line: string): void {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
}

/** Things to undo, newest first: proxies before the cluster they point at. */
const teardown: Array<{ what: string; undo: () => Promise<void> }> = [];
let tornDown = false;
async function tearDown(): Promise<void> {
  if (tornDown) return;
  tornDown = true;
  for (const step of teardown.reverse()) {
    try {
      await step.undo();
    } catch (error) {
      process.stderr.write(`teardown of ${step.what} failed: ${(error as Error).message}\n`);
    }
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    progress(`${sig}: tearing down`);
    void tearDown().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

async function raiseMaxConnections(cluster: PatroniCluster): Promise<void> {
  await cluster.editConfig({ 'postgresql.parameters.max_connections': MAX_CONNECTIONS });
  // Patroni rewrites postgresql.conf on its next loop; then PostgreSQL reports a pending restart.
  await waitFor(
    'every member to have the new max_connections pending a restart',
    async () => {
      for (const m of cluster.members) {
        const pending = await cluster.sql(m.name, `SELECT pending_restart FROM pg_settings WHERE name = 'max_connections'`);
        if (pending !== 't') throw new Error(`${m.name}: pending_restart ${pending}`);
      }
      return true;
    },
    { timeoutMs: (cluster.loopWait + 30) * 1000, intervalMs: 500 },
  );
  await cluster.patronictl('restart', cluster.scope, '--force');
  await waitFor(
    `max_connections = ${MAX_CONNECTIONS} on every member`,
    async () => {
      for (const m of cluster.members) {
        const value = await cluster.sql(m.name, 'SHOW max_connections');
        if (value !== String(MAX_CONNECTIONS)) throw new Error(`${m.name} has ${value}`);
      }
      return true;
    },
    { timeoutMs: 120_000, intervalMs: 1000, diagnostics: () => cluster.diagnostics(10) },
  );
}

async function idleBackends(cluster: PatroniCluster, leader: string): Promise<number> {
  return Number(await cluster.sql(leader, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bench-idle'`));
}

async function main(): Promise<void> {
  const { plan, sections } = parseArgs(process.argv.slice(2));
  const notes: string[] = [
    'Everything (clients, proxies, three PostgreSQL members, etcd) shares this machine, and other work may run on it too; the interleaved order spreads that noise over all endpoints alike.',
    `max_connections raised to ${MAX_CONNECTIONS} with patronictl edit-config and a restart of every member (pending restart) before measuring, so 1,000 idle sessions fit on the primary.`,
    "HAProxy runs Patroni's template (OPTIONS /master and /replica checks, inter 3s fall 3 rise 2 on-marked-down shutdown-sessions, template timeouts) on 127.0.0.1 with this cluster's ports; only maxconn is raised (1100 per server, 2200 global) so it can carry the same 1,000 idle sessions.",
    "Clients connect without TLS (pgbench PGSSLMODE=disable, node-postgres's default) and the router is configured with tls.backend.mode: disable, so like HAProxy in TCP mode it relays plain TCP; with the router's default 'prefer' it would open TLS to the member itself on every connection.",
  ];
  const binDir = newestPostgresBinDir();
  const results: BenchResults = {
    date: new Date().toISOString(),
    mode: plan.mode,
    machine: machineFacts(),
    versions: await versions(binDir),
    settings: { pgbenchSeconds: plan.seconds, repetitions: plan.repetitions, scale: plan.scale, ttl: plan.ttl, loopWait: plan.loopWait, haproxyConfig: '' },
    throughput: [],
    churn: [],
    switchovers: [],
    crashes: [],
    notes,
  };

  progress(`${plan.mode} run; sections: ${[...sections].join(', ')}`);
  progress('starting etcd and a 3-member Patroni cluster');
  const cluster = await startCluster({ members: 3, ttl: plan.ttl, loopWait: plan.loopWait, retryTimeout: plan.retryTimeout });
  teardown.push({ what: 'the cluster', undo: () => cluster.stop() });
  progress(`cluster ${cluster.scope} up: ${cluster.members.map((m) => `${m.name} pg:${m.port} rest:${m.restPort}`).join(', ')}`);

  progress(`raising max_connections to ${MAX_CONNECTIONS} (restart of every member)`);
  await raiseMaxConnections(cluster);
  let leader = await cluster.waitForHealthy({ timeoutMs: 180_000 });
  await cluster.sql(leader, CREATE_WRITES_TABLE);
  const leaderMember = cluster.member(leader);
  progress(`pgbench -i -s ${plan.scale} on ${leader}`);
  await initialisePgbench({ host: '127.0.0.1', port: leaderMember.port, user: USER, database: DATABASE }, plan.scale);
  await cluster.sql(leader, 'VACUUM ANALYZE');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-router-bench-'));
  teardown.push({ what: 'the bench temp dir', undo: async () => fs.rmSync(dir, { recursive: true, force: true }) });
  const logDir = path.join(dir, 'pgbench-logs');
  fs.mkdirSync(logDir);

  const [haPrimary, haReplica, haStats, rPrimary, rReplica, rAdmin] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  progress('starting HAProxy');
  const haproxy: HaproxyProcess = await startHaproxy(
    { primaryPort: haPrimary, replicaPort: haReplica, statsPort: haStats, maxConnections: 1100, members: cluster.members.map((m) => ({ host: m.host, port: m.port, restPort: m.restPort })) },
    dir,
  );
  teardown.push({ what: 'HAProxy', undo: () => haproxy.stop() });
  results.settings.haproxyConfig = haproxy.configText;
  await haproxy.waitForPrimary('127.0.0.1', leaderMember.port);

  progress('starting the router');
  let router: RouterProcess | undefined;
  try {
    router = await startRouter(
      { scope: cluster.scope, namespace: cluster.namespace, etcdEndpoint: cluster.etcd.endpoint, primaryPort: rPrimary, replicaPort: rReplica, adminPort: rAdmin },
      dir,
      { user: USER, database: DATABASE },
    );
    const started = router;
    teardown.push({ what: 'the router', undo: () => started.stop() });
  } catch (error) {
    const message = (error as Error).message;
    notes.push(`The router could not be started, so only direct and HAProxy were measured: ${message.split('\n').slice(0, 6).join(' / ')}`);
    progress(`router not available: ${message}`);
  }

  const target = (port: number) => ({ host: '127.0.0.1', port, user: USER, database: DATABASE });
  const endpoints: MeasuredEndpoint[] = [
    { endpoint: 'direct', target: target(leaderMember.port) },
    { endpoint: 'haproxy', target: target(haPrimary), proxyPid: haproxy.pid },
    ...(router ? [{ endpoint: 'router' as const, target: target(rPrimary), proxyPid: router.pid }] : []),
  ];

  if (sections.has('throughput')) {
    progress(`throughput: pgbench -T ${plan.seconds}, ${plan.repetitions} repetition(s), endpoints interleaved`);
    results.throughput = await measureThroughput(
      endpoints,
      { workloads: ['select-simple', 'select-prepared', 'tpcb'], clients: [8, 32], threads: 2, seconds: plan.seconds, repetitions: plan.repetitions, logDir },
      progress,
    );
  }
  if (sections.has('churn')) {
    progress('connection churn: pgbench -C -S');
    results.churn = await measureChurn(endpoints, { seconds: plan.churnSeconds, repetitions: plan.repetitions, clients: 8, threads: 2 }, progress);
  }
  if (sections.has('idle')) {
    progress(`${plan.idleSessions} idle sessions through each proxy's primary listener`);
    const idle: IdleSessionsMeasure = {
      sessions: plan.idleSessions,
      how: `${plan.idleSessions} node-postgres sessions opened (25 at a time) through each proxy's primary listener in turn, all landing on the leader (max_connections ${MAX_CONNECTIONS}); RSS read from /proc/<pid>/status 2 s after the last one opened, then all closed before the next proxy.`,
      errors: [],
    };
    for (const proxy of [haproxy, router]) {
      if (!proxy) continue;
      const port = proxy === haproxy ? haPrimary : rPrimary;
      const reading = await measureIdleSessions(proxy.pid, target(port), plan.idleSessions);
      idle[proxy === haproxy ? 'haproxy' : 'router'] = { rssBeforeKb: reading.rssBeforeKb, rssWithSessionsKb: reading.rssWithSessionsKb, cpuSecondsToOpen: reading.cpuSecondsToOpen };
      if (reading.opened < plan.idleSessions) idle.errors.push(`${proxy.what}: only ${reading.opened} opened (${reading.errors.join('; ')})`);
      progress(`  ${proxy.what}: ${reading.opened} sessions, RSS ${(reading.rssBeforeKb / 1024).toFixed(1)} -> ${(reading.rssWithSessionsKb / 1024).toFixed(1)} MB, ${reading.cpuSecondsToOpen.toFixed(2)} CPU s`);
      await waitFor('the idle sessions to be gone from the leader', async () => (await idleBackends(cluster, leader)) === 0, { timeoutMs: 60_000, intervalMs: 250 });
    }
    results.idle = idle;
  }

  const failoverSetup: FailoverSetup = {
    cluster,
    haproxy,
    haproxyPrimary: { name: 'haproxy', host: '127.0.0.1', port: haPrimary },
    ...(router ? { routerPrimary: { name: 'router', host: '127.0.0.1', port: rPrimary } } : {}),
    user: USER,
    database: DATABASE,
    progress,
  };
  if (sections.has('switchover')) {
    progress(`planned switchovers: ${plan.switchovers}`);
    for (let round = 1; round <= plan.switchovers; round++) results.switchovers.push(await failoverRound('switchover', round, failoverSetup));
  }
  if (sections.has('crash')) {
    progress(`crash failovers: ${plan.crashes} (each waits for the leader key's ttl of ${plan.ttl} s)`);
    for (let round = 1; round <= plan.crashes; round++) results.crashes.push(await failoverRound('crash', round, failoverSetup));
  }
  leader = (await cluster.leader()) ?? leader;

  const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = results.date.replace(/\.\d+Z$/, '').replace(/:/g, '-');
  const markdown = renderMarkdown(results);
  fs.writeFileSync(path.join(resultsDir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(resultsDir, 'latest.md'), markdown);
  progress(`results written to ${path.join(resultsDir, `${stamp}.json`)} and latest.md`);
  process.stdout.write(`\n${markdown}`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    progress('tearing down');
    await tearDown();
  });
