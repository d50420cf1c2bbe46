/**
 * The bench: a real 3-member Patroni cluster, HAProxy with Patroni's template, and the router,
 * measured side by side in one run, with a bare Node pipe proxy as the floor for any Node relay.
 * `node dist/bench/run.js [--quick] [--only=throughput,churn,idle,split,switchover,crash] [--split] [--failover] [--router-workers=auto]`
 * --split: only the mixed read/write workload (the same as --only=split).
 * --failover: only the switchover and crash rounds, single and pooled writers (--only=switchover,crash).
 * BENCH_POOL_ROUTER_LOG=debug: the pooled writer's router logs at debug (info by default); its log
 * is kept as bench/results/<date>-router-pool.log (not committed).
 * BENCH_ROUTER_CPU_PROF=DIR: each router runs with --cpu-prof and writes its V8 CPU profile to DIR on exit.
 * --router-workers: the `workers` value of the second router column (default auto); that column
 * runs only when the router accepts the setting (router-workers.ts).
 * Results: bench/results/<date>.json and <date>.md; a full run of every part also bench/results/latest.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, waitFor, freePort, newestPostgresBinDir, type PatroniCluster } from '../test/cluster/index.js';
import { progressLine, teardownOnExit } from '../test/cluster/script-teardown.js';
import { failoverRound, type FailoverSetup } from './failover-rounds.js';
import type { PoolPlan } from './pool-round.js';
import { AUTH_ROLE, POOL_USER, preparePooledWriters } from './pooled-setup.js';
import { measureIdleSessions } from './idle-sessions.js';
import { machineFacts, versions } from './machine-facts.js';
import { initialisePgbench } from './pgbench-runner.js';
import { routerCliPath, startBarePipe, startHaproxy, startRouter, type HaproxyProcess, type ProxyProcess, type RouterProcess } from './proxy-process.js';
import { BENCH_SECTIONS, isReferenceRun, type BenchResults, type IdleSessionsMeasure, type Workload } from './results.js';
import type { RouterLayout } from './router-config.js';
import { routerWorkersSupport } from './router-workers.js';
import { renderMarkdown } from './results-table.js';
import { SPLIT_PATRONI_PARAMETERS, prepareSplitCluster, splitParametersInForce } from './split-mixed.js';
import { runSplitSection } from './split-section.js';
import { measureChurn, measureThroughput, type MeasuredEndpoint } from './throughput.js';
import { CREATE_WRITES_TABLE } from './writer.js';

const SECTIONS = BENCH_SECTIONS;
type Section = (typeof SECTIONS)[number];

interface Plan {
  mode: 'quick' | 'full';
  workloads: readonly Workload[];
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
  /** The mixed read/write workload: seconds per run and interleaved repetitions. */
  splitSeconds: number;
  splitRepetitions: number;
}

// Quick leaves TPC-B out: five endpoints of it would not fit in ~6 minutes, and the relay's
// cost per chunk shows best in the short -S transactions.
const QUICK: Plan = {
  mode: 'quick',
  workloads: ['select-simple', 'select-prepared'],
  seconds: 4,
  repetitions: 2,
  churnSeconds: 5,
  switchovers: 2,
  crashes: 1,
  idleSessions: 1000,
  scale: 10,
  ttl: 30,
  loopWait: 10,
  retryTimeout: 10,
  splitSeconds: 5,
  splitRepetitions: 2,
};
const FULL: Plan = {
  mode: 'full',
  workloads: ['select-simple', 'select-prepared', 'tpcb'],
  seconds: 15,
  repetitions: 3,
  churnSeconds: 10,
  switchovers: 6,
  crashes: 2,
  idleSessions: 1000,
  scale: 10,
  ttl: 30,
  loopWait: 10,
  retryTimeout: 10,
  splitSeconds: 15,
  splitRepetitions: 3,
};
/** The read-your-writes checker beside each mixed run: one write and its read every 5 ms at most. */
const CHECKER_INTERVAL_MS = 5;
const USER = 'postgres';
const DATABASE = 'postgres';
/** The failover rounds' pooled writers: pg.Pool connections per proxy, each writing every POOL_INTERVAL_MS. */
const POOL_SIZE = 10;
const POOL_INTERVAL_MS = 10;
/** Room for 1,000 idle sessions plus the writers and pgbench, on every member (replicas need >= the primary's). */
const MAX_CONNECTIONS = 1200;

function parseArgs(argv: readonly string[]): { plan: Plan; sections: Set<Section>; routerWorkers: string } {
  const plan = argv.includes('--quick') ? QUICK : FULL;
  const routerWorkers = argv.find((a) => a.startsWith('--router-workers='))?.slice('--router-workers='.length) ?? 'auto';
  if (!/^(auto|\d+)$/.test(routerWorkers)) throw new Error(`--router-workers: "${routerWorkers}" is neither auto nor a number`);
  const shorthands = { '--split': 'split', '--failover': 'switchover,crash' } as const;
  const given = (Object.keys(shorthands) as Array<keyof typeof shorthands>).filter((flag) => argv.includes(flag));
  if (given.length + (argv.some((a) => a.startsWith('--only=')) ? 1 : 0) > 1)
    throw new Error('--split and --failover are --only=split and --only=switchover,crash: give one of them');
  const only = given[0] ? shorthands[given[0]] : argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const sections = new Set<Section>(SECTIONS);
  if (only) {
    sections.clear();
    for (const word of only.split(',')) {
      if (!(SECTIONS as readonly string[]).includes(word)) throw new Error(`--only: unknown section "${word}" (known: ${SECTIONS.join(', ')})`);
      sections.add(word as Section);
    }
  }
  for (const arg of argv) {
    if (arg !== '--quick' && !(arg in shorthands) && !arg.startsWith('--only=') && !arg.startsWith('--router-workers=')) {
      throw new Error(`unknown argument "${arg}" (use --quick, --only=${SECTIONS.join(',')}, --split, --failover, --router-workers=auto|N)`);
    }
  }
  return { plan, sections, routerWorkers };
}

function poolRouterLogLevel(asked: string | undefined): 'info' | 'debug' | 'warn' {
  if (asked === undefined || asked === '') return 'info';
  if (asked === 'info' || asked === 'debug' || asked === 'warn') return asked;
  throw new Error(`BENCH_POOL_ROUTER_LOG: "${asked}" is none of info, debug, warn`);
}

const progress = progressLine('bench');
/** Things to undo, newest first: proxies before the cluster they point at. */
const { steps: teardown, tearDown } = teardownOnExit(progress);

/** `extra`: more Patroni parameters that take the same restart (the mixed workload's). */
async function raiseMaxConnections(cluster: PatroniCluster, extra: Record<string, string> = {}): Promise<void> {
  // patronictl reads each value as YAML: a JSON string stays a string ('%m ...' would not).
  const quoted = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, JSON.stringify(v)]));
  await cluster.editConfig({ 'postgresql.parameters.max_connections': MAX_CONNECTIONS, ...quoted });
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
  if (Object.keys(extra).length > 0) {
    await waitFor("the mixed workload's parameters on every member", () => splitParametersInForce(cluster), {
      timeoutMs: 60_000,
      intervalMs: 1000,
      diagnostics: () => cluster.diagnostics(10),
    });
  }
}

async function idleBackends(cluster: PatroniCluster, leader: string): Promise<number> {
  return Number(await cluster.sql(leader, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bench-idle'`));
}

async function main(): Promise<void> {
  const { plan, sections, routerWorkers } = parseArgs(process.argv.slice(2));
  const loadAtStart = os.loadavg();
  const notes: string[] = [
    'Everything (clients, proxies, three PostgreSQL members, etcd) shares this machine, and other work may run on it too; the interleaved order spreads that noise over all endpoints alike.',
    `max_connections raised to ${MAX_CONNECTIONS} with patronictl edit-config and a restart of every member (pending restart) before measuring, so 1,000 idle sessions fit on the primary.`,
    "HAProxy runs Patroni's template (OPTIONS /master and /replica checks, inter 3s fall 3 rise 2 on-marked-down shutdown-sessions, template timeouts) on 127.0.0.1 with this cluster's ports; only maxconn is raised (1100 per server, 2200 global) so it can carry the same 1,000 idle sessions.",
    "Clients connect without TLS (pgbench PGSSLMODE=disable, node-postgres's default) and the router is configured with tls.backend.mode: disable, so like HAProxy in TCP mode it relays plain TCP; with the router's default 'prefer' it would open TLS to the member itself on every connection.",
    "The bare pipe is bench/bare-pipe-proxy.ts: net.createServer and socket.pipe both ways to the leader, Nagle off, nothing else (no startup, no routing). It bounds what any Node relay can do on this machine; router/bare pipe is the cost of the router's own work.",
  ];
  const binDir = newestPostgresBinDir();
  const results: BenchResults = {
    date: new Date().toISOString(),
    mode: plan.mode,
    sections: [...sections],
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

  const split = sections.has('split');
  progress(`raising max_connections to ${MAX_CONNECTIONS}${split ? ', loading pg_stat_statements' : ''} (restart of every member)`);
  await raiseMaxConnections(cluster, split ? SPLIT_PATRONI_PARAMETERS : {});
  if (split) {
    notes.push(
      'For the mixed workload every member loads pg_stat_statements (shared_preload_libraries, with the same restart) with pg_stat_statements.track = none, and top only for the bench role of that part (ALTER ROLE ... SET), ' +
        "so the other parts' sessions are not tracked (PostgreSQL still computes a query id per statement once the module is loaded); log_line_prefix carries the SQLSTATE.",
    );
  }
  let leader = await cluster.waitForHealthy({ timeoutMs: 180_000 });
  await cluster.sql(leader, CREATE_WRITES_TABLE);
  const failover = sections.has('switchover') || sections.has('crash');
  if (failover) await preparePooledWriters(cluster, leader);
  const leaderMember = cluster.member(leader);
  progress(`pgbench -i -s ${plan.scale} on ${leader}`);
  await initialisePgbench({ host: '127.0.0.1', port: leaderMember.port, user: USER, database: DATABASE }, plan.scale);
  await cluster.sql(leader, 'VACUUM ANALYZE');
  if (split) await prepareSplitCluster(cluster, leader);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-router-bench-'));
  teardown.push({ what: 'the bench temp dir', undo: async () => fs.rmSync(dir, { recursive: true, force: true }) });
  const logDir = path.join(dir, 'pgbench-logs');
  fs.mkdirSync(logDir);

  const [haPrimary, haReplica, haStats, rPrimary, rReplica, rAdmin] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  progress('starting HAProxy');
  const haproxy: HaproxyProcess = await startHaproxy(
    {
      primaryPort: haPrimary,
      replicaPort: haReplica,
      statsPort: haStats,
      maxConnections: 1100,
      members: cluster.members.map((m) => ({ host: m.host, port: m.port, restPort: m.restPort })),
    },
    dir,
  );
  teardown.push({ what: 'HAProxy', undo: () => haproxy.stop() });
  results.settings.haproxyConfig = haproxy.configText;
  await haproxy.waitForPrimary('127.0.0.1', leaderMember.port);

  const [rwPrimary, rwReplica, rwAdmin, barePort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const layout: RouterLayout = {
    scope: cluster.scope,
    namespace: cluster.namespace,
    etcdEndpoint: cluster.etcd.endpoint,
    primaryPort: rPrimary,
    replicaPort: rReplica,
    adminPort: rAdmin,
  };
  const workersSupport = await routerWorkersSupport(routerCliPath(), layout, routerWorkers, dir);
  results.routerColumns = {
    router: workersSupport.supported ? '1' : '',
    routerWorkers,
    routerWorkersRan: false,
    ...(workersSupport.supported ? {} : { routerWorkersWhy: workersSupport.why }),
  };
  progress(`router workers: ${workersSupport.supported ? `supported, columns workers: 1 and workers: ${routerWorkers}` : workersSupport.why}`);
  const startOneRouter = async (name: string, routerLayout: RouterLayout): Promise<RouterProcess | undefined> => {
    progress(`starting the router (${name}${routerLayout.workers === undefined ? '' : `, workers: ${routerLayout.workers}`})`);
    try {
      const started = await startRouter(routerLayout, dir, { user: USER, database: DATABASE }, name);
      teardown.push({ what: `the router (${name})`, undo: () => started.stop() });
      return started;
    } catch (error) {
      const message = (error as Error).message;
      notes.push(`The router (${name}) could not be started, so its column is missing: ${message.split('\n').slice(0, 6).join(' / ')}`);
      progress(`router ${name} not available: ${message}`);
      return undefined;
    }
  };
  const router = await startOneRouter('router', workersSupport.supported ? { ...layout, workers: '1' } : layout);
  // The workers router and the bare pipe are columns of the relay parts only: a run of the
  // failover rounds alone leaves them out, so they take no CPU from it.
  const relayParts = sections.has('throughput') || sections.has('churn') || sections.has('idle');
  let routerWithWorkers: RouterProcess | undefined;
  if (workersSupport.supported && relayParts) {
    routerWithWorkers = await startOneRouter('router-workers', { ...layout, primaryPort: rwPrimary, replicaPort: rwReplica, adminPort: rwAdmin, workers: routerWorkers });
    results.routerColumns.routerWorkersRan = routerWithWorkers !== undefined;
    if (!routerWithWorkers) results.routerColumns.routerWorkersWhy = 'it could not be started (see the notes)';
  }
  let barePipe: ProxyProcess | undefined;
  if (relayParts) {
    progress('starting the bare pipe proxy');
    try {
      barePipe = await startBarePipe(barePort, { host: '127.0.0.1', port: leaderMember.port }, dir);
      const started = barePipe;
      teardown.push({ what: 'the bare pipe proxy', undo: () => started.stop() });
    } catch (error) {
      notes.push(`The bare pipe proxy could not be started, so its column is missing: ${(error as Error).message.split('\n')[0]}`);
    }
  }

  const target = (port: number) => ({ host: '127.0.0.1', port, user: USER, database: DATABASE });
  const endpoints: MeasuredEndpoint[] = [
    { endpoint: 'direct', target: target(leaderMember.port) },
    { endpoint: 'haproxy', target: target(haPrimary), proxyPid: haproxy.pid },
    ...(barePipe ? [{ endpoint: 'bare-pipe' as const, target: target(barePort), proxyPid: barePipe.pid }] : []),
    ...(router ? [{ endpoint: 'router' as const, target: target(rPrimary), proxyPid: router.pid }] : []),
    ...(routerWithWorkers ? [{ endpoint: 'router-workers' as const, target: target(rwPrimary), proxyPid: routerWithWorkers.pid }] : []),
  ];

  if (sections.has('throughput')) {
    progress(`throughput: pgbench -T ${plan.seconds}, ${plan.repetitions} repetition(s), endpoints interleaved`);
    results.throughput = await measureThroughput(
      endpoints,
      { workloads: plan.workloads, clients: [8, 32], threads: 2, seconds: plan.seconds, repetitions: plan.repetitions, logDir },
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
      how: `${plan.idleSessions} node-postgres sessions opened (25 at a time) through each proxy's primary listener in turn, all landing on the leader (max_connections ${MAX_CONNECTIONS}); RSS read from /proc/<pid>/status of every process of the proxy (summed, so pages workers share count once per worker) 2 s after the last one opened, then all closed before the next proxy.`,
      errors: [],
    };
    for (const e of endpoints) {
      if (e.endpoint === 'direct' || e.proxyPid === undefined) continue;
      const reading = await measureIdleSessions(e.proxyPid, e.target, plan.idleSessions);
      idle[e.endpoint] = {
        rssBeforeKb: reading.rssBeforeKb,
        rssWithSessionsKb: reading.rssWithSessionsKb,
        cpuSecondsToOpen: reading.cpuSecondsToOpen,
        processes: reading.processes,
      };
      if (reading.opened < plan.idleSessions) idle.errors.push(`${e.endpoint}: only ${reading.opened} opened (${reading.errors.join('; ')})`);
      progress(
        `  ${e.endpoint}: ${reading.opened} sessions, ${reading.processes} process(es), RSS ${(reading.rssBeforeKb / 1024).toFixed(1)} -> ${(reading.rssWithSessionsKb / 1024).toFixed(1)} MB, ${reading.cpuSecondsToOpen.toFixed(2)} CPU s`,
      );
      await waitFor('the idle sessions to be gone from the leader', async () => (await idleBackends(cluster, leader)) === 0, { timeoutMs: 60_000, intervalMs: 250 });
    }
    results.idle = idle;
  }

  if (split) {
    progress('mixed reads and writes through the split listener, the primary listener and Pgpool-II');
    results.split = await runSplitSection(
      cluster,
      leader,
      { clients: [8, 32], seconds: plan.splitSeconds, repetitions: plan.splitRepetitions, scale: plan.scale, checkerIntervalMs: CHECKER_INTERVAL_MS },
      dir,
      teardown,
      notes,
      progress,
    );
  }

  // The pooled writer's router: the same layout with the auth_query role, so its primary listener
  // moves sessions (move_sessions is on by default with `auth:`); apart from the single writer's
  // router, whose figures stay comparable with earlier runs. Info logs say each move. Started
  // only now, so it costs the throughput parts nothing.
  let poolRouter: { process: RouterProcess; port: number; adminPort: number } | undefined;
  if (failover) {
    const [pPrimary, pReplica, pAdmin] = await Promise.all([freePort(), freePort(), freePort()]);
    const poolLayout: RouterLayout = {
      ...layout,
      primaryPort: pPrimary,
      replicaPort: pReplica,
      adminPort: pAdmin,
      ...(workersSupport.supported ? { workers: '1' } : {}),
      auth: { user: AUTH_ROLE.user, password: AUTH_ROLE.password, database: DATABASE },
      logLevel: poolRouterLogLevel(process.env['BENCH_POOL_ROUTER_LOG']),
    };
    const started = await startOneRouter('router-pool', poolLayout);
    if (started) poolRouter = { process: started, port: pPrimary, adminPort: pAdmin };
    results.pooledWriter = {
      size: POOL_SIZE,
      intervalMs: POOL_INTERVAL_MS,
      user: POOL_USER.user,
      login:
        `${POOL_USER.user} logs in with scram-sha-256 (the harness's mixed pg_hba); the router learns its ClientKey from the exchange and the stored key ` +
        `its auth_query role ${AUTH_ROLE.user} returns, and logs the session in again on the new primary with it.`,
      routerConfig: (poolRouter?.process.configText ?? '').replace(AUTH_ROLE.password, "<the auth role's password>"),
      ...(poolRouter ? {} : { routerMissing: 'the router with `auth:` could not be started (see the notes)' }),
    };
  }

  const pools: PoolPlan = {
    routes: [
      { proxy: 'haproxy', target: { name: 'haproxy', host: '127.0.0.1', port: haPrimary } },
      ...(poolRouter
        ? [
            {
              proxy: 'router' as const,
              target: { name: 'router-pool', host: '127.0.0.1', port: poolRouter.port },
              metrics: { adminPort: poolRouter.adminPort, listener: 'primary' },
            },
          ]
        : []),
    ],
    options: { user: POOL_USER.user, password: POOL_USER.password, database: DATABASE, size: POOL_SIZE, intervalMs: POOL_INTERVAL_MS },
  };
  const failoverSetup: FailoverSetup = {
    cluster,
    haproxy,
    haproxyPrimary: { name: 'haproxy', host: '127.0.0.1', port: haPrimary },
    ...(router ? { routerPrimary: { name: 'router', host: '127.0.0.1', port: rPrimary } } : {}),
    user: USER,
    database: DATABASE,
    pools,
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
  results.load = { start: loadAtStart, end: os.loadavg() };

  const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = results.date.replace(/\.\d+Z$/, '').replace(/:/g, '-');
  const markdown = renderMarkdown(results);
  fs.writeFileSync(path.join(resultsDir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(resultsDir, `${stamp}.md`), markdown);
  // Kept beside the results (not committed: *.log) for what the router said about each move.
  if (poolRouter) fs.copyFileSync(poolRouter.process.logFile, path.join(resultsDir, `${stamp}-router-pool.log`));
  const reference = isReferenceRun(results, SECTIONS);
  if (reference) fs.writeFileSync(path.join(resultsDir, 'latest.md'), markdown);
  progress(`results written to ${path.join(resultsDir, `${stamp}.json`)} and .md${reference ? ', and latest.md' : ' (latest.md is left to full runs of every part)'}`);
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
