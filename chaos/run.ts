/**
 * `npm run chaos -- [--seed N] [--minutes M]`: a real cluster (test/cluster), the router as its
 * own process, pgbench and pool writers through it, and faults drawn from the printed seed
 * until the minutes are up; invariants checked at every quiet moment and at the end. Writes
 * chaos/reports/<stamp>.{md,json} (a full run also latest.md) and exits 1 on any violation.
 * Loopback only; everything it starts is torn down, also on an error or SIGINT.
 */
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor, type PatroniCluster } from '../test/cluster/index.js';
import { registerDir, forgetDir } from '../test/cluster/process-registry.js';
import { progressLine, teardownOnExit } from '../test/cluster/script-teardown.js';
import type { FaultContext, FaultRecord } from './faults/fault-context.js';
import { describePlan, FaultPlanner } from './faults/fault-plan.js';
import { resumeStoppedReplays } from './faults/cluster-faults.js';
import { injectFault } from './faults/inject-fault.js';
import { judgeExactlyOnce, type CrashWindow } from './invariants/acknowledged-writes.js';
import { checkGaugesQuietly } from './invariants/gauge-checkpoint.js';
import { describeLeak, judgeBackends } from './invariants/leaked-backends.js';
import { judgeFencedPrimarySessions } from './invariants/primary-fencing.js';
import { censusOfHeapSnapshot, heapGrowth } from './observe/heap-snapshot.js';
import { judgeResources, liveHeapLimitKb, RESOURCE_TOLERANCE, rssLimitKb, warmUpEnd } from './invariants/resource-baseline.js';
import { ViolationLog } from './invariants/violations.js';
import { judgeReadOnlyErrors, judgeWritePlacement, type PlacedWrite } from './invariants/write-placement.js';
import { AcknowledgedWriter } from './load/acknowledged-writer.js';
import { applicationName } from './load/application-names.js';
import { tallyByCause, type ClientError } from './load/client-errors.js';
import { PgbenchLoad } from './load/pgbench-load.js';
import { readCensus } from './observe/backend-census.js';
import { PrimaryTimeline } from './observe/primary-timeline.js';
import { censusOfSockets, readProcessSockets, type SocketCensus } from './observe/proc-sockets.js';
import { readResources, ResourceSampler, type ResourceSample } from './observe/resource-sampler.js';
import { countFaultsByKind, perMinute, type ChaosReport } from './report/chaos-report.js';
import { renderChaosReport } from './report/render-report.js';
import { AdminClient } from './router/admin-client.js';
import { CHAOS_LISTENERS, renderRouterConfig, type ChaosListener, type ChaosRouterLayout } from './router/router-config.js';
import { RouterUnderChaos } from './router/router-process.js';
import { FULL_RUN_MINUTES, parseRunOptions } from './run-options.js';
import { SeededRandom } from './seeded-random.js';
import { startChaosCluster } from './setup/chaos-cluster.js';

const STARTUP_TIMEOUT_MS = 10_000;
/** Listeners whose clients write: a fenced session there is judged against the primary's own view. */
const WRITE_LISTENERS: readonly ChaosListener[] = ['primary', 'split', 'probe'];
const SPLIT_LISTENERS: readonly ChaosListener[] = ['split'];
/** No fault is started with less than this left: its recovery would run far past the minutes. */
const LAST_FAULT_MARGIN_MS = 30_000;

const started = Date.now();
const progress = progressLine('chaos');
/** Things to undo, newest first: loads before the router, the router before the cluster. */
const { steps: teardown, tearDown } = teardownOnExit(progress);

/** Rejects as soon as the router has exited, so no fault or wait outlives it. */
class RouterWatch {
  stopping = false;
  readonly gone: Promise<never>;

  constructor(router: RouterUnderChaos, violations: ViolationLog) {
    this.gone = router.exited.then((status) => {
      const how = status.signal ? `killed by ${status.signal}` : `exited with code ${status.code}`;
      if (!this.stopping) violations.report('router-exited', Date.now(), `the router ${how} during the run; its log ends:\n${router.tail(20)}`);
      throw new Error(`the router ${how}`);
    });
    this.gone.catch(() => undefined);
  }

  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.gone]);
  }
}

async function main(): Promise<number> {
  const options = parseRunOptions(process.argv.slice(2), () => randomInt(0, 2 ** 32));
  process.stdout.write(
    `chaos seed ${options.seed} (${options.seedGiven ? 'given' : 'drawn'}), ${options.minutes} min of faults; replay with: npm run chaos -- --seed ${options.seed} --minutes ${options.minutes}\n`,
  );
  const random = new SeededRandom(options.seed);
  const violations = new ViolationLog((v) => progress(`VIOLATION ${v.invariant}: ${v.detail.split('\n')[0]}`));
  const notes: string[] = [];

  let cluster: PatroniCluster | undefined;
  const setupCluster = await startChaosCluster(progress, (c) => {
    cluster = c;
    teardown.push({ what: 'the cluster', undo: () => c.stop() });
  });
  cluster = setupCluster.cluster;
  // Undone just before the cluster stops (teardown runs newest first): a stopped replay must go on to shut down.
  teardown.push({ what: 'stopped replays', undo: async () => resumeStoppedReplays() });
  const { login, auth, plainUser } = setupCluster;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-router-chaos-'));
  registerDir(dir);
  teardown.push({
    what: 'the router temp dir',
    undo: async () => {
      fs.rmSync(dir, { recursive: true, force: true });
      forgetDir(dir);
    },
  });
  const portList = await Promise.all(CHAOS_LISTENERS.map(() => freePort()));
  const ports = Object.fromEntries(CHAOS_LISTENERS.map((l, i) => [l, portList[i] as number])) as Record<ChaosListener, number>;
  const adminPort = await freePort();
  const adminToken = `chaos-${randomInt(0, 2 ** 32).toString(16)}`;
  const layout: ChaosRouterLayout = {
    scope: cluster.scope,
    namespace: cluster.namespace,
    etcdHostPort: `127.0.0.1:${cluster.etcd.clientPort}`,
    ports,
    adminPort,
    adminToken,
    auth,
    replicaMaxLag: '512kB',
    startupTimeoutMs: STARTUP_TIMEOUT_MS,
  };
  const admin = new AdminClient(adminPort, adminToken);
  progress(`starting the router: ${CHAOS_LISTENERS.map((l) => `${l} :${ports[l]}`).join(', ')}, admin :${adminPort}`);
  const router = await RouterUnderChaos.start(renderRouterConfig(layout), dir, admin);
  const watch = new RouterWatch(router, violations);
  teardown.push({
    what: 'the router',
    undo: async () => {
      watch.stopping = true;
      await router.stop();
    },
  });
  await waitFor('the router to name the primary', async () => (await admin.writablePrimary()) === setupCluster.leader, { timeoutMs: 60_000, intervalMs: 200 });

  const memberPorts = Object.fromEntries(cluster.members.map((m) => [m.name, m.port]));
  const socketPorts = { listeners: Object.values(ports), admin: adminPort, members: memberPorts, rest: cluster.members.map((m) => m.restPort), etcd: cluster.etcd.clientPort };
  const sockets = (): SocketCensus => censusOfSockets(readProcessSockets(router.pid), socketPorts);
  // The snapshot first: writing one takes memory the allocator may keep, and the final RSS,
  // read before the final snapshot, carries that of the first.
  const baselineHeap = censusOfHeapSnapshot(await router.heapSnapshot(admin));
  const baseline: ResourceSample = readResources(router.pid);
  progress(`router live heap after a full GC: ${(baselineHeap.liveBytes / 2 ** 20).toFixed(1)} MB in ${baselineHeap.nodes} objects`);
  progress(`router pid ${router.pid}: baseline RSS ${(baseline.rssKb / 1024).toFixed(1)} MB, ${baseline.fds} fds`);
  const sampler = new ResourceSampler(router.pid);
  sampler.start();
  teardown.push({ what: 'the resource sampler', undo: async () => sampler.stop() });
  const timeline = new PrimaryTimeline(cluster);
  timeline.start();
  teardown.push({ what: 'the primary timeline', undo: () => timeline.stop() });

  // The loads, all through the router, all for the whole run.
  const connection = (listener: ChaosListener, what: string) => ({
    host: '127.0.0.1',
    port: ports[listener],
    user: login.user,
    password: login.password,
    database: 'postgres',
    application_name: applicationName(listener, what),
  });
  const writers = [
    new AcknowledgedWriter(connection('primary', 'writer'), 'writer/primary', 'primary', 4, 100),
    new AcknowledgedWriter(connection('split', 'writer'), 'writer/split', 'split', 4, 100),
  ];
  const pgbenchSpec = (listener: ChaosListener, clients: number, rate: number, scripts: string[]) => ({
    name: `pgbench/${listener}`,
    listener,
    port: ports[listener],
    user: login.user,
    password: login.password,
    applicationName: applicationName(listener, 'pgbench'),
    clients,
    rate,
    scripts,
    segmentSeconds: 60,
  });
  const benches = [
    new PgbenchLoad(pgbenchSpec('primary', 6, 30, ['-b', 'tpcb-like'])),
    new PgbenchLoad(pgbenchSpec('replicas', 6, 100, ['-S'])),
    new PgbenchLoad(pgbenchSpec('split', 4, 40, ['-b', 'select-only@4', '-b', 'simple-update@1'])),
  ];
  const stopLoads = async (): Promise<void> => {
    await Promise.all([...writers.map((w) => w.stop()), ...benches.map((b) => b.stop())]);
  };
  let loadsStopped = false;
  teardown.push({
    what: 'the loads',
    undo: async () => {
      if (!loadsStopped) await stopLoads();
    },
  });
  progress('starting the loads: 2 pool writers (primary, split), pgbench on primary, replicas and split');
  await Promise.all(writers.map((w) => w.start()));
  for (const b of benches) b.start();
  await waitFor('every writer and pgbench to get work done', () => writers.every((w) => w.acknowledged.length > 0) && benches.every((b) => b.transactions > 0), {
    timeoutMs: 60_000,
    intervalMs: 200,
  });

  const gaugeCheckpoints = { judged: 0, unjudged: 0 };
  const checkpoint = async (when: string): Promise<void> => {
    const primary = (await cluster?.leader()) ?? '';
    const result = await checkGaugesQuietly(admin, cluster as PatroniCluster, { listeners: CHAOS_LISTENERS, splitListeners: SPLIT_LISTENERS, primary });
    if (result.stableReadings === 0) gaugeCheckpoints.unjudged++;
    else gaugeCheckpoints.judged++;
    if (result.mismatch !== undefined) violations.report('untrue-gauges', Date.now(), `${when}: ${result.mismatch}`);
    else progress(`  gauges ${when}: ${result.matched ? 'equal to pg_stat_activity' : 'no stable reading, not judged'}`);
  };
  await checkpoint('before the first fault');

  const ctx: FaultContext = { cluster, admin, ports, login, fillerUser: plainUser, startupTimeoutMs: STARTUP_TIMEOUT_MS, violations, random, progress };
  const planner = new FaultPlanner(random.fork('plan'));
  const faults: FaultRecord[] = [];
  const crashes: CrashWindow[] = [];
  const chaosStarted = Date.now();
  const chaosEnd = chaosStarted + options.minutes * 60_000;
  progress(`faults until ${new Date(chaosEnd).toISOString().slice(11, 19)} UTC`);
  for (;;) {
    const plan = planner.next();
    if (Date.now() + plan.gapMs + LAST_FAULT_MARGIN_MS > chaosEnd) break;
    // Steady load between faults: the gap is part of the plan, not a wait for a condition.
    await watch.race(new Promise((resolve) => setTimeout(resolve, plan.gapMs)));
    const record: FaultRecord = { index: plan.index, kind: plan.kind, description: describePlan(plan), startedAt: Date.now(), endedAt: 0, notes: [] };
    faults.push(record);
    progress(`fault ${plan.index}: ${record.description}`);
    try {
      const outcome = await watch.race(injectFault(plan, { ...ctx, random: random.fork(`fault ${plan.index} payloads`) }));
      if (outcome.target !== undefined) record.target = outcome.target;
      record.notes.push(...outcome.notes);
      if (outcome.crash) crashes.push(outcome.crash);
    } catch (error) {
      if (!router.running) throw error;
      record.failed = (error as Error).message.split('\n')[0] ?? 'failed';
      progress(`  could not be injected: ${record.failed}`);
    }
    record.endedAt = Date.now();
    await watch.race(recover(record));
    for (const n of record.notes) progress(`  ${n}`);
    await watch.race(checkpoint(`after fault ${plan.index} (${record.description})`));
  }
  const chaosSeconds = (Date.now() - chaosStarted) / 1000;

  async function recover(record: FaultRecord): Promise<void> {
    const c = cluster as PatroniCluster;
    const leader = await c.waitForHealthy({ timeoutMs: 180_000 });
    const named = await waitFor(`the router to name ${leader} the primary`, async () => (await admin.writablePrimary()) === leader, { timeoutMs: 60_000, intervalMs: 200 }).then(
      () => true,
      () => false,
    );
    if (!named)
      violations.report(
        'no-recovery',
        Date.now(),
        `after ${record.description}: the cluster is healthy with ${leader} leading, the router does not name it the writable primary after 60 s`,
      );
    const since = Date.now();
    const resumed = await waitFor('every writer to write again', () => writers.every((w) => w.successesSince(since) > 0), { timeoutMs: 60_000, intervalMs: 100 }).then(
      () => true,
      () => false,
    );
    if (!resumed) {
      const stuck = writers.filter((w) => w.successesSince(since) === 0).map((w) => `${w.name} (last error: ${w.errors[w.errors.length - 1]?.message ?? 'none'})`);
      violations.report('no-recovery', Date.now(), `after ${record.description}: ${stuck.join(', ')} wrote nothing for 60 s with the cluster healthy`);
    }
    record.recoveredAt = Date.now();
  }

  progress(`chaos over after ${faults.length} faults; stopping the loads`);
  await stopLoads();
  loadsStopped = true;
  const finalLeader = await cluster.waitForHealthy({ timeoutMs: 180_000 });
  await timeline.stop();

  // Once the clients are gone: their backends, sockets and gauges must follow.
  const c = cluster;
  await waitFor("the chaos clients' backends to be gone", async () => judgeBackends(await readCensus(c)).leaked.length === 0, { timeoutMs: 30_000, intervalMs: 500 }).catch(
    () => undefined,
  );
  const backendVerdict = judgeBackends(await readCensus(cluster));
  for (const l of backendVerdict.leaked) violations.report('leaked-backends', Date.now(), describeLeak(l, Date.now()));
  if (backendVerdict.unread.length > 0) notes.push(`pg_stat_activity could not be read on ${backendVerdict.unread.join(', ')} at the end.`);
  await checkpoint('with every client stopped');
  await waitFor(
    "the router's client sockets to close",
    () => {
      const s = sockets();
      return s.clients === 0 && s.closeWait === 0;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  ).catch(() => undefined);
  const finalSockets = sockets();
  notes.push(
    `The router's sockets at the end: ${finalSockets.listening} listening, ${finalSockets.clients} from clients, ${finalSockets.closeWait} in CLOSE_WAIT, to members ${JSON.stringify(finalSockets.backends)}, ${finalSockets.rest} to REST APIs, ${finalSockets.etcd} to etcd, ${finalSockets.admin} admin, ${finalSockets.other} other.`,
  );
  const final = readResources(router.pid);
  sampler.stop();
  const finalHeap = censusOfHeapSnapshot(await router.heapSnapshot(admin));
  const growth = heapGrowth(baselineHeap, finalHeap);
  progress(
    `router live heap at the end: ${(finalHeap.liveBytes / 2 ** 20).toFixed(1)} MB; grew most: ${growth.map((g) => `${g.name} +${(g.bytes / 1024).toFixed(0)} kB (${g.count})`).join(', ')}`,
  );
  const warmUntil = warmUpEnd(chaosStarted, chaosEnd);
  const memory = {
    liveHeapKb: { baseline: Math.round(baselineHeap.liveBytes / 1024), final: Math.round(finalHeap.liveBytes / 1024) },
    warmRssKb: Math.max(baseline.rssKb, ...sampler.samples.filter((x) => x.at <= warmUntil).map((x) => x.rssKb)),
  };
  violations.add(judgeResources(baseline, final, finalSockets, memory));
  const peakSampled = sampler.peak();
  const peak = { rssKb: Math.max(peakSampled.rssKb, final.rssKb), fds: Math.max(peakSampled.fds, final.fds) };

  // The whole run's writes and errors against who was primary.
  const memberByPort = new Map(cluster.members.map((m) => [m.port, m.name]));
  const placed: PlacedWrite[] = writers.flatMap((w) =>
    w.acknowledged.map((a) => ({ writer: w.name, seq: a.seq, sent: a.sent, at: a.at, port: a.port, member: memberByPort.get(a.port) })),
  );
  const placement = judgeWritePlacement(placed, timeline.samples);
  violations.add(placement.violations);
  const errors: ClientError[] = [...writers.flatMap((w) => w.errors), ...benches.flatMap((b) => b.errors)].sort((a, b) => a.at - b.at);
  violations.add(judgeReadOnlyErrors(errors));
  const fencing = judgeFencedPrimarySessions(errors, timeline.samples, new Set(WRITE_LISTENERS));
  violations.add(fencing.violations);
  const writeVerdicts = [];
  for (const w of writers) {
    const rows = await cluster.sql(finalLeader, `SELECT seq FROM chaos_writes WHERE writer = '${w.name}'`);
    const seqs = rows === '' ? [] : rows.split('\n').map(Number);
    const verdict = judgeExactlyOnce(w.name, w.acknowledged, seqs, crashes);
    violations.add(verdict.violations);
    writeVerdicts.push(verdict);
  }

  const logLines = router.logLines();
  watch.stopping = true;
  const exit = await router.stop();
  const exitText = exit.signal ? `stopped by ${exit.signal}` : `exited with code ${exit.code} on SIGTERM`;
  if (exit.signal === 'SIGKILL') notes.push('The router did not stop within 45 s of SIGTERM and was killed.');

  const bySource: Record<string, number> = {};
  for (const e of errors) bySource[e.source] = (bySource[e.source] ?? 0) + 1;
  const report: ChaosReport = {
    seed: options.seed,
    minutes: options.minutes,
    startedAt: new Date(started).toISOString(),
    endedAt: new Date().toISOString(),
    chaosSeconds,
    totalSeconds: (Date.now() - started) / 1000,
    setup: [
      `3-member Patroni ${cluster.patroniVersion} cluster (ttl ${cluster.ttl} s, loop_wait ${cluster.loopWait} s, retry_timeout ${cluster.retryTimeout} s) on etcd, PostgreSQL 15, all on 127.0.0.1 of a ${os.cpus().length}-core machine shared with other work.`,
      `The router as its own process (node dist/src/cli.js), listeners primary, replicas (max_lag ${layout.replicaMaxLag}), split and probe (route primary, only the held probes use it), auth_query, startup_timeout ${STARTUP_TIMEOUT_MS / 1000} s.`,
      'Clients log in as scramuser (SCRAM) so their sessions can move; each names its listener in application_name, which is how pg_stat_activity is compared with the gauges.',
      'Load: pool writers (4 connections each, one INSERT per connection every 100 ms) through primary and split; pgbench tpcb-like at 30 tps (6 clients) through primary, -S at 100 tps (6) through replicas, select-only/simple-update 4:1 at 40 tps (4) through split, restarted every 60 s (pgbench drops a client at its first error).',
      'Fault kinds come in shuffled rounds of all seven; 5 to 20 s of steady load before each; after each, the run waits for a healthy cluster, the router naming its primary and every writer writing, then compares the gauges with pg_stat_activity.',
    ],
    faults,
    faultsByKind: countFaultsByKind(faults),
    clientErrors: { total: errors.length, byCause: tallyByCause(errors), bySource, list: errors.slice(0, 300) },
    load: [
      ...writers.map((w) => ({ name: w.name, listener: w.listener, done: w.acknowledged.length, unit: 'writes', errors: w.errors.length })),
      ...benches.map((b) => ({ name: b.spec.name, listener: b.spec.listener, done: b.transactions, unit: `transactions in ${b.segments} segments`, errors: b.errors.length })),
    ],
    writes: writeVerdicts.map((v) => ({ writer: v.writer, acknowledged: v.acknowledged, rows: v.rows, duplicates: v.duplicates, lostInCrashTails: v.lostInCrashTails })),
    checks: {
      placementJudged: placement.judged,
      placementUnjudged: placement.unjudged,
      fencingJudged: fencing.judged,
      fencingUnjudged: fencing.unjudged,
      gaugeCheckpoints: gaugeCheckpoints.judged,
      gaugeCheckpointsUnjudged: gaugeCheckpoints.unjudged,
    },
    violations: violations.list,
    resources: {
      baseline: { rssKb: baseline.rssKb, fds: baseline.fds },
      peak,
      final: { rssKb: final.rssKb, fds: final.fds },
      warmRssKb: memory.warmRssKb,
      warmUpMinutes: Math.round((warmUntil - chaosStarted) / 6_000) / 10,
      rssLimitKb: rssLimitKb(memory),
      fdTolerance: RESOURCE_TOLERANCE.fds,
      liveHeapKb: { ...memory.liveHeapKb, limit: liveHeapLimitKb(memory) },
      heapGrowth: growth.map((g) => ({ name: g.name, kb: Math.round(g.bytes / 1024), count: g.count })),
      perMinute: perMinute([baseline, ...sampler.samples, final], baseline.at),
    },
    backends: { leaked: backendVerdict.leaked.map((l) => describeLeak(l, Date.now())), expected: backendVerdict.expected },
    router: {
      exit: exitText,
      logLines: logLines.length,
      errorLines: logLines.filter((l) => (l.level ?? 0) >= 50).length,
      warnLines: logLines.filter((l) => l.level === 40).length,
    },
    notes,
  };

  const reportsDir = fileURLToPath(new URL('../../chaos/reports/', import.meta.url));
  fs.mkdirSync(reportsDir, { recursive: true });
  const stamp = report.startedAt.replace(/\.\d+Z$/, '').replace(/:/g, '-');
  const markdown = renderChaosReport(report);
  fs.writeFileSync(path.join(reportsDir, `${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(reportsDir, `${stamp}.md`), markdown);
  if (options.minutes >= FULL_RUN_MINUTES) fs.writeFileSync(path.join(reportsDir, 'latest.md'), markdown);
  if (violations.list.length > 0) fs.writeFileSync(path.join(reportsDir, `${stamp}-router.log`), logLines.map((l) => JSON.stringify(l)).join('\n'));
  process.stdout.write(`\n${markdown}`);
  progress(`report: ${path.join(reportsDir, `${stamp}.md`)} and .json${options.minutes >= FULL_RUN_MINUTES ? ', latest.md' : ''}`);
  return violations.list.length === 0 ? 0 : 1;
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    process.stderr.write(`chaos run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  })
  .finally(async () => {
    progress('tearing down');
    await tearDown();
  });
