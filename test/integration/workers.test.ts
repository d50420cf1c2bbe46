/**
 * `workers: 2` on a real Patroni cluster, the router a real process (`patroni-router --config`):
 * a primary process that follows the topology and two worker processes that accept and relay.
 * Sessions land on both workers (a client's cancel key names its worker in the top byte of its
 * process id), fencing and a switchover reach both, a cancel crosses from one worker to the
 * other, /metrics and /topology sum them, and reload, a killed worker and SIGTERM work across them.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopologyReport } from '../../src/admin/topology-report.js';
import { CancelRegistry } from '../../src/proxy/cancel-registry.js';
import { cancelRequest } from '../../src/wire/serializer.js';
import { freePort, startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import { forgetDir, registerDir } from '../cluster/process-registry.js';
import { ensureBuilt, RouterProcess } from '../support/router-process.js';
import { WriteLoop } from '../support/write-loop.js';

const WORKERS = [1, 2];
/** Long enough for the test to see sessions still served while the listeners are closed. */
const DRAIN_TIMEOUT_MS = 4000;
const READ_ONLY = '25006';
const SHUTDOWN = '57P01';

type Client = pg.Client & { processID: number; secretKey: number };

describe('patroni-router with workers: 2', () => {
  let cluster: PatroniCluster;
  let dir: string;
  let configPath: string;
  let adminPort: number;
  let router: RouterProcess;
  const ports = { primary: 0, replicas: 0, extra: 0 };
  const clients: pg.Client[] = [];

  function routerYaml(withExtra: boolean): string {
    const etcdHost = cluster.etcd.endpoint.replace(/^http:\/\//, '');
    return [
      `scope: ${cluster.scope}`,
      `namespace: ${cluster.namespace}`,
      `etcd3: {hosts: "${etcdHost}"}`,
      'listeners:',
      `  - {name: primary, port: ${ports.primary}, route: primary, hold_timeout: 45s}`,
      `  - {name: replicas, port: ${ports.replicas}, route: replica}`,
      ...(withExtra ? [`  - {name: extra, port: ${ports.extra}, route: any}`] : []),
      `admin: {port: ${adminPort}}`,
      'log: {level: info}',
      `drain_timeout: ${DRAIN_TIMEOUT_MS}ms`,
      'workers: 2',
      '',
    ].join('\n');
  }

  const admin = async (pathName: string): Promise<Response> => fetch(`http://127.0.0.1:${adminPort}${pathName}`);
  const topology = async (): Promise<TopologyReport> => (await (await admin('/topology')).json()) as TopologyReport;
  const metricsText = async (): Promise<string> => (await admin('/metrics')).text();

  /** The value of one series in the Prometheus text, undefined when absent. */
  function series(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
    const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    for (const line of text.split('\n')) {
      if (!line.startsWith(name) || line.startsWith('#')) continue;
      const [key, value] = [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)];
      const bare = key.split('{')[0];
      if (bare !== name) continue;
      const inside = key.includes('{') ? key.slice(key.indexOf('{') + 1, -1).split(',') : [];
      if (wanted.every((w) => inside.includes(w)) && inside.length === wanted.length) return Number(value);
    }
    return undefined;
  }

  async function connect(port: number): Promise<Client> {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 20_000 }) as Client;
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    return client;
  }

  const workerOf = (client: Client): number => CancelRegistry.workerOf(client.processID);

  /** Opens connections until every worker has at least `each` of them (the primary hands them out in turn). */
  async function onEveryWorker(port: number, each: number): Promise<Map<number, Client[]>> {
    const byWorker = new Map<number, Client[]>(WORKERS.map((w) => [w, []]));
    for (let opened = 0; WORKERS.some((w) => (byWorker.get(w)?.length ?? 0) < each); opened++) {
      if (opened > 20 * each) throw new Error(`after ${opened} connections: ${JSON.stringify([...byWorker].map(([w, c]) => [w, c.length]))}`);
      const client = await connect(port);
      byWorker.get(workerOf(client))?.push(client);
    }
    return byWorker;
  }

  const scalar = async (client: pg.Client, sql: string): Promise<unknown> => Object.values((await client.query(sql)).rows[0] as Record<string, unknown>)[0];

  /** Sends one CancelRequest on a connection of its own (it lands on whichever worker the primary picks next). */
  const sendCancel = (processId: number, secretKey: number): Promise<void> =>
    new Promise((resolve) => {
      const secret = Buffer.alloc(4);
      secret.writeInt32BE(secretKey);
      const socket = net.connect({ host: '127.0.0.1', port: ports.primary }, () => socket.end(cancelRequest(processId, secret)));
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });

  async function closeAll(): Promise<void> {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    await waitFor('the workers to hold no session', async () => (await topology()).workers?.every((w) => w.sessions === 0) === true, { timeoutMs: 15_000 });
  }

  beforeAll(async () => {
    await ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-router-workers-'));
    registerDir(dir);
    configPath = path.join(dir, 'router.yml');
    cluster = await startCluster({ members: 3 });
    const leader = await cluster.waitForHealthy({ replicas: 2 });
    await cluster.sql(leader, 'CREATE TABLE IF NOT EXISTS router_probe (id bigserial PRIMARY KEY, note text, at timestamptz DEFAULT now())');
    [adminPort, ports.primary, ports.replicas, ports.extra] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    fs.writeFileSync(configPath, routerYaml(false));
    router = RouterProcess.start(configPath);
    await router.waitForLog('patroni-router started', { timeoutMs: 60_000 });
    await waitFor('the router to be ready (admin /ready)', async () => (await admin('/ready')).status === 200, { timeoutMs: 30_000, diagnostics: () => router.tail() });
  });

  afterAll(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
    await router?.stop(5000);
    await cluster?.stop();
    if (dir !== undefined) {
      fs.rmSync(dir, { recursive: true, force: true });
      forgetDir(dir);
    }
  });

  it('runs two workers beside the primary process, and sessions land on both: /topology sums them and lists each worker', async () => {
    const started = router.lines.find((l) => l.msg === 'workers started');
    expect(started).toMatchObject({ schedulingPolicy: 'rr', workers: [{ worker: 1 }, { worker: 2 }] });
    const byWorker = await onEveryWorker(ports.primary, 2);
    const opened = [...byWorker.values()].flat();
    for (const client of opened) expect(await scalar(client, 'SELECT pg_is_in_recovery()')).toBe(false);
    // The members see one backend per session, from the router.
    const leader = (await cluster.leader()) ?? '';
    const backends = Number(
      await cluster.sql(leader, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND client_addr = '127.0.0.1' AND application_name = ''"),
    );
    expect(backends).toBeGreaterThanOrEqual(opened.length);

    const report = await topology();
    expect(report.workers?.map((w) => [w.index, w.state, w.sessions])).toEqual(WORKERS.map((w) => [w, 'ready', byWorker.get(w)?.length]));
    expect(new Set(report.workers?.map((w) => w.pid)).size).toBe(2);
    expect(report.workers?.map((w) => w.pid)).not.toContain(router.pid);
    const primary = report.listeners.find((l) => l.name === 'primary');
    expect(primary?.sessions.total).toBe(opened.length);
    expect(primary?.sessions.byMember).toEqual({ [leader]: opened.length });
    expect(report.clusters[0]?.sessionsByMember[leader]).toEqual({ primary: opened.length });
    await closeAll();
  });

  it('/metrics sums the workers: connections counted by each add up to what the clients opened', async () => {
    const before = series(await metricsText(), 'patroni_router_connections_accepted_total', { listener: 'replicas' }) ?? 0;
    const byWorker = await onEveryWorker(ports.replicas, 3);
    const opened = [...byWorker.values()].flat();
    const members = new Map<string, number>();
    for (const client of opened) {
      const port = String(await scalar(client, 'SELECT inet_server_port()'));
      const member = cluster.members.find((m) => String(m.port) === port)?.name ?? port;
      members.set(member, (members.get(member) ?? 0) + 1);
    }
    const text = await metricsText();
    expect((series(text, 'patroni_router_connections_accepted_total', { listener: 'replicas' }) ?? 0) - before).toBe(opened.length);
    for (const [member, n] of members) expect(series(text, 'patroni_router_sessions', { listener: 'replicas', member })).toBe(n);
    expect(series(text, 'patroni_router_workers', { state: 'ready' })).toBe(2);
    // The topology's gauges come from the primary process alone: one series, not one per process.
    expect(series(text, 'patroni_router_topology_generation', { cluster: cluster.scope })).toBeGreaterThan(0);
    expect(text.split('\n').filter((l) => l.startsWith(`patroni_router_topology_generation{cluster="${cluster.scope}"}`))).toHaveLength(1);
    expect(series(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    await closeAll();
  });

  it('a CancelRequest that lands on the other worker reaches the query on its backend', async () => {
    const client = await connect(ports.primary);
    const owner = workerOf(client);
    const crossed = (): Promise<number> => metricsText().then((t) => series(t, 'patroni_router_cancel_requests_total', { outcome: 'other-worker' }) ?? 0);
    const crossedBefore = await crossed();
    // The primary hands connections to the workers in turn: within a few cancels one lands on the other worker.
    for (let attempt = 1; (await crossed()) === crossedBefore; attempt++) {
      if (attempt > 10) throw new Error('no cancel landed on the other worker');
      const running = client.query('SELECT pg_sleep(60)').then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      await waitFor(
        'the query to run',
        async () =>
          Number(await cluster.sql((await cluster.leader()) ?? '', "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'")) === 1,
      );
      await sendCancel(client.processID, client.secretKey);
      expect(await running).toMatchObject({ code: '57014', message: 'canceling statement due to user request' });
    }
    expect(owner).toBeGreaterThanOrEqual(1);
    expect(await scalar(client, 'SELECT 1')).toBe(1);
    await closeAll();
  });

  it('fences on both workers: a replica tagged noloadbalance loses its sessions on each, with 57P01 saying why', async () => {
    const byWorker = await onEveryWorker(ports.replicas, 2);
    const memberOf = async (client: Client): Promise<string> => {
      const port = Number(await scalar(client, 'SELECT inet_server_port()'));
      return cluster.members.find((m) => m.port === port)?.name ?? String(port);
    };
    const sessions = await Promise.all([...byWorker].flatMap(([worker, list]) => list.map(async (client) => ({ worker, client, member: await memberOf(client) }))));
    // Each worker sends its sessions round-robin over both replicas: one of them has sessions from both.
    const target = [...new Set(sessions.map((s) => s.member))].find((m) => WORKERS.every((w) => sessions.some((s) => s.member === m && s.worker === w)));
    expect(target).toBeDefined();
    const onTarget = sessions.filter((s) => s.member === target);
    const ended = onTarget.map((s) => new Promise<Error & { code?: string }>((resolve) => s.client.once('error', resolve)));
    await cluster.setTags(target ?? '', { noloadbalance: true });
    for (const err of await Promise.all(ended)) {
      expect(err.code).toBe(SHUTDOWN);
      expect(err.message).toContain(`${target} is no longer a replica target in cluster ${cluster.scope}`);
    }
    const fencedBy = new Set(router.lines.filter((l) => l.msg === 'session fenced' && l['member'] === target).map((l) => l['worker']));
    expect(fencedBy).toEqual(new Set(WORKERS));
    // The primary's event log heard of it from both.
    const events = (await (await admin('/events')).json()) as { events: Array<{ kind: string; member?: string; count: number }> };
    expect(events.events.filter((e) => e.kind === 'fenced' && e.member === target).reduce((n, e) => n + e.count, 0)).toBe(onTarget.length);
    await cluster.setTags(target ?? '', {});
    await closeAll();
  });

  it('a switchover with writers on both workers: no write reaches the demoted primary, and every writer writes again', async () => {
    const oldLeader = await cluster.waitForHealthy({ replicas: 2 });
    const candidate = cluster.members.find((m) => m.name !== oldLeader)?.name ?? '';
    const writers = [0, 1, 2, 3].map((i) => new WriteLoop({ host: '127.0.0.1', port: ports.primary, user: 'postgres', database: 'postgres' }, `worker-writer-${i}`));
    const fresh = new WriteLoop({ host: '127.0.0.1', port: ports.primary, user: 'postgres', database: 'postgres' }, 'worker-writer-fresh', 20, 'fresh');
    for (const w of [...writers, fresh]) w.start();
    try {
      await waitFor('every writer to write', () => writers.every((w) => w.successes().length > 5) && fresh.successes().length > 5);
      const workersWriting = new Set(writers.map((w) => CancelRegistry.workerOf(w.processIds[0] ?? 0)));
      expect(workersWriting).toEqual(new Set(WORKERS));
      const since = Date.now();
      await cluster.switchover(candidate);
      await waitFor(`${candidate} to lead`, async () => (await cluster.leader()) === candidate, { timeoutMs: 60_000 });
      await waitFor(
        'every writer to write again after the switchover',
        () => [...writers, fresh].every((w) => w.attempts.some((a) => a.ok && a.startedAt > since && a.newConnection)),
        { timeoutMs: 60_000 },
      );
      const afterAt = Date.now();
      await waitFor('every writer to write once more', () => [...writers, fresh].every((w) => w.firstSuccessAfter(afterAt) !== undefined));
    } finally {
      await Promise.all([...writers, fresh].map((w) => w.stop()));
    }
    const failures = [...writers, fresh].flatMap((w) => w.failures());
    expect(failures.filter((f) => f.code === READ_ONLY)).toEqual([]);
    // A writer's session on the old primary is fenced (the router's 57P01) or ended by its shutdown.
    for (const failure of failures) expect([SHUTDOWN, undefined]).toContain(failure.code);
    // Every write the router accepted is on the new primary (a write whose answer was lost may be there too).
    const accepted = [...writers, fresh].reduce((n, w) => n + w.successes().length, 0);
    await waitFor(
      'every accepted write on the new primary',
      async () => Number(await cluster.sql(candidate, "SELECT count(*) FROM router_probe WHERE note LIKE 'worker-writer-%'")) >= accepted,
    );
  });

  it('SIGHUP: the primary hands the new listener to both workers, and an open session keeps its backend', async () => {
    const kept = await connect(ports.primary);
    const keptPid = Number(await scalar(kept, 'SELECT pg_backend_pid()'));
    fs.writeFileSync(configPath, routerYaml(true));
    const from = router.lines.length;
    router.signal('SIGHUP');
    const reloaded = await router.waitForLog('configuration reloaded', { from });
    expect(reloaded['listeners']).toMatchObject({ added: ['extra'], unchanged: ['primary', 'replicas'] });
    const perWorker = router.lines
      .slice(from)
      .filter((l) => l.msg === 'listeners reloaded')
      .map((l) => l['worker']);
    expect(new Set(perWorker)).toEqual(new Set(WORKERS));
    const byWorker = await onEveryWorker(ports.extra, 1);
    for (const [, list] of byWorker) expect(await scalar(list[0]!, 'SELECT 1')).toBe(1);
    expect((await topology()).listeners.find((l) => l.name === 'extra')).toMatchObject({ accepting: true, sessions: { total: 2 } });
    expect(Number(await scalar(kept, 'SELECT pg_backend_pid()'))).toBe(keptPid);
    await closeAll();
  });

  it("a killed worker is started again by the primary; the other worker's sessions carry on", async () => {
    const byWorker = await onEveryWorker(ports.primary, 1);
    const survivor = byWorker.get(2)?.[0];
    const victim = (await topology()).workers?.find((w) => w.index === 1);
    expect(victim?.pid).toBeDefined();
    process.kill(victim?.pid ?? 0, 'SIGKILL');
    const back = await waitFor('worker 1 to be running again', async () => (await topology()).workers?.find((w) => w.index === 1 && w.state === 'ready' && w.pid !== victim?.pid), {
      timeoutMs: 30_000,
      diagnostics: () => router.tail(),
    });
    expect(back.restarts).toBe(1);
    expect(router.lines.find((l) => l.msg === 'worker exited; starting it again')).toMatchObject({ worker: 1, signal: 'SIGKILL' });
    expect(await scalar(survivor!, 'SELECT 1')).toBe(1);
    // Both serve again: new sessions land on each.
    const again = await onEveryWorker(ports.primary, 1);
    for (const [, list] of again) expect(await scalar(list[0]!, 'SELECT pg_is_in_recovery()')).toBe(false);
    expect(series(await metricsText(), 'patroni_router_worker_restarts_total')).toBe(1);
    await closeAll();
  });

  it("a worker's write login that finds the named primary in hot standby makes the primary process ask that member's REST API at once", async () => {
    // A router of its own, probing every 10 minutes: only the doubt a worker sends can make it ask.
    const [ownAdmin, ownPrimary] = await Promise.all([freePort(), freePort()]);
    const ownConfig = path.join(dir, 'doubting.yml');
    const etcdHost = cluster.etcd.endpoint.replace(/^http:\/\//, '');
    fs.writeFileSync(
      ownConfig,
      [
        `scope: ${cluster.scope}`,
        `namespace: ${cluster.namespace}`,
        `etcd3: {hosts: "${etcdHost}"}`,
        `listeners: [{name: primary, port: ${ownPrimary}, route: primary, hold_timeout: 90s}]`,
        `admin: {port: ${ownAdmin}}`,
        'log: {level: debug}',
        'topology: {probe_interval: 10m}',
        'workers: 2',
        '',
      ].join('\n'),
    );
    const doubting = RouterProcess.start(ownConfig);
    let held: Promise<unknown> | undefined;
    try {
      await waitFor('the second router to be ready', async () => (await fetch(`http://127.0.0.1:${ownAdmin}/ready`)).status === 200, {
        timeoutMs: 30_000,
        diagnostics: () => doubting.tail(),
      });
      const leader = await cluster.waitForHealthy({ replicas: 2 });
      await cluster.etcd.stop();
      await waitFor(`${leader} to give up writes while etcd is down`, async () => (await cluster.sql(leader, 'SELECT pg_is_in_recovery()')) === 't', {
        timeoutMs: (cluster.ttl + cluster.loopWait + 30) * 1000,
        intervalMs: 100,
      });
      // A password-less write login: kept back unseen, and a doubt sent from the worker.
      const client = new pg.Client({ host: '127.0.0.1', port: ownPrimary, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 90_000 });
      client.on('error', () => undefined);
      held = client.connect().then(
        () => client,
        (e: unknown) => e,
      );
      const doubted = await doubting.waitForLog('a session saw the state contradicted: asking the member now', { where: (l) => l['member'] === leader, timeoutMs: 15_000 });
      expect(doubted['worker']).toBeUndefined(); // logged by the primary process's follower
      await doubting.waitForLog('cluster state changed', {
        // Its REST answer (role replica) in the same change: the probe, not ttl running out.
        where: (l) => {
          const changes = Array.isArray(l['changes']) ? (l['changes'] as string[]) : [];
          return changes.includes(`writable primary ${leader} -> (none)`) && changes.includes(`${leader} REST role primary -> replica`);
        },
        timeoutMs: 10_000,
      });
      await cluster.etcd.start();
      const outcome = await held;
      expect(outcome).toBeInstanceOf(pg.Client);
      const primary = await cluster.waitForHealthy({ replicas: 2 });
      expect(await scalar(outcome as pg.Client, 'SELECT pg_is_in_recovery()')).toBe(false);
      expect(await scalar(outcome as pg.Client, 'SELECT inet_server_port()')).toBe(cluster.member(primary).port);
      await (outcome as pg.Client).end();
    } finally {
      await cluster.etcd.start();
      await doubting.stop(5000);
    }
    // The main router follows etcd again before the next test.
    await waitFor('the main router to be ready again', async () => (await admin('/ready')).status === 200, { timeoutMs: 60_000 });
  });

  it('SIGTERM: both workers stop accepting, their sessions are served on until drain_timeout, then 57P01; every process exits, exit code 0', async () => {
    const byWorker = await onEveryWorker(ports.primary, 1);
    const open = [...byWorker.values()].flat();
    const pids = ((await topology()).workers ?? []).map((w) => w.pid ?? 0);
    const ended = open.map((client) => new Promise<string | undefined>((resolve) => client.once('error', (e: Error & { code?: string }) => resolve(e.code))));
    router.signal('SIGTERM');
    await waitFor(
      'the listeners to refuse connections',
      () =>
        new Promise<boolean>((resolve) => {
          const socket = net.connect({ host: '127.0.0.1', port: ports.primary });
          socket.once('connect', () => (socket.destroy(), resolve(false)));
          socket.once('error', () => resolve(true));
        }),
      { timeoutMs: 10_000 },
    );
    for (const client of open) expect(await scalar(client, 'SELECT 1')).toBe(1);
    expect(await Promise.all(ended)).toEqual(open.map(() => SHUTDOWN));
    const exit = await router.exited;
    expect(exit.code).toBe(0);
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor('every worker to be gone', () => pids.every((pid) => !alive(pid)), { timeoutMs: 10_000 });
    expect(
      router.lines
        .filter((l) => l.msg === 'worker stopped')
        .map((l) => l['worker'])
        .sort(),
    ).toEqual(WORKERS);
  });
});
