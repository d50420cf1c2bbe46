/**
 * The router as a real process in front of a real Patroni cluster, driven the way an operator
 * drives it: `patroni-router --config FILE`, SIGHUP after editing the file (good and bad),
 * SIGTERM with a drain deadline, `check-config`, `status`, and what its logs contain.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, freePort, startCluster, startEtcd, waitFor, type EtcdHandle, type PatroniCluster } from '../cluster/index.js';
import { forgetDir, registerDir } from '../cluster/process-registry.js';
import { putKey } from '../support/etcdctl.js';
import { twoMemberKeys } from '../support/patroni-keys.js';
import { ensureBuilt, runCli, RouterProcess, type LogLine } from '../support/router-process.js';
import { enableV3Auth } from '../support/secured-etcd.js';

const ADMIN_TOKEN = 'admin-Tok-93d1c0aa7e';
const ETCD_PASSWORD = 'etcd-Pw-c41b77e902';
const DRAIN_TIMEOUT_MS = 3000;
/** Terminated sessions may linger this long for the client to read its FATAL (src/proxy/proxy-server.ts drain()). */
const PROXY_LINGER_CAP_MS = 5000;
const SHUTDOWN = '57P01';

interface Listener {
  name: string;
  port: number;
  route: 'primary' | 'replica';
}

describe('patroni-router as a process', () => {
  let cluster: PatroniCluster;
  let vaultEtcd: EtcdHandle;
  let dir: string;
  let configPath: string;
  let adminPort: number;
  let router: RouterProcess;
  const everyRouter: RouterProcess[] = [];
  const clients: pg.Client[] = [];
  let primary: Listener;
  let replicas: Listener;
  /** Sessions through `router` that completed their startup; each must log `session ended`. */
  let sessionsOpened = 0;
  /** The session kept open across the reloads (SCRAM user). */
  let kept: pg.Client;
  let keptPid: number;

  /**
   * Two followed clusters: the Patroni cluster the listeners route to, and `vault`, a bare etcd
   * with authentication on, so the running router really uses an etcd password (password_env).
   */
  function routerYaml(listeners: Listener[], body?: string): string {
    const etcdHost = cluster.etcd.endpoint.replace(/^http:\/\//, '');
    const vaultHost = vaultEtcd.endpoint.replace(/^http:\/\//, '');
    const listenerYaml = listeners.map((l) => `  - {name: ${l.name}, cluster: ${cluster.scope}, port: ${l.port}, route: ${l.route}}`).join('\n');
    return [
      'clusters:',
      `  - scope: ${cluster.scope}`,
      `    namespace: ${cluster.namespace}`,
      `    etcd3: {hosts: "${etcdHost}"}`,
      '  - scope: vault',
      `    etcd3: {hosts: "${vaultHost}", username: root, password_env: ROUTER_TEST_ETCD_PASSWORD}`,
      '    topology: {probe_interval: 0}',
      `listeners:\n${body ?? listenerYaml}`,
      `admin: {port: ${adminPort}, token: ${ADMIN_TOKEN}}`,
      'log: {level: debug}',
      `drain_timeout: ${DRAIN_TIMEOUT_MS}ms`,
      '',
    ].join('\n');
  }

  async function startRouterProcess(file: string): Promise<RouterProcess> {
    const started = RouterProcess.start(file, { ROUTER_TEST_ETCD_PASSWORD: ETCD_PASSWORD });
    everyRouter.push(started);
    await started.waitForLog('patroni-router started', { timeoutMs: 30_000 });
    await waitFor(
      'the router to be ready (admin /ready)',
      async () => (await fetch(`http://127.0.0.1:${adminPort}/ready`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).status === 200,
      { timeoutMs: 30_000, diagnostics: () => started.tail() },
    );
    return started;
  }

  async function connect(port: number, user: { user: string; password?: string } = credentials.superuser): Promise<pg.Client> {
    const client = new pg.Client({ host: '127.0.0.1', port, database: 'postgres', user: user.user, password: user.password ?? '', connectionTimeoutMillis: 20_000 });
    clients.push(client);
    await client.connect();
    sessionsOpened++;
    return client;
  }

  const scalar = async (client: pg.Client, sql: string): Promise<unknown> => Object.values((await client.query(sql)).rows[0] as Record<string, unknown>)[0];

  /** 'refused' when nothing listens on the port any more, 'accepted' when a TCP connect succeeds. */
  const tcpProbe = (port: number): Promise<'refused' | 'accepted' | string> =>
    new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve('accepted');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'refused' : (err.code ?? err.message)));
    });

  beforeAll(async () => {
    await ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-router-process-'));
    registerDir(dir);
    configPath = path.join(dir, 'router.yml');
    cluster = await startCluster({ members: 3 });
    vaultEtcd = await startEtcd({ dir: path.join(dir, 'vault') });
    await enableV3Auth(vaultEtcd.endpoint, ETCD_PASSWORD);
    for (const [key, value] of twoMemberKeys('pg0')) await putKey('etcd3', { endpoint: vaultEtcd.endpoint, user: `root:${ETCD_PASSWORD}` }, `/service/vault/${key}`, value);
    await cluster.waitForHealthy({ replicas: 2 });
    adminPort = await freePort();
    primary = { name: 'primary', port: await freePort(), route: 'primary' };
    replicas = { name: 'replicas', port: await freePort(), route: 'replica' };
    fs.writeFileSync(configPath, routerYaml([primary]));
    router = await startRouterProcess(configPath);
  });

  afterAll(async () => {
    for (const client of clients) {
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
    for (const r of everyRouter) await r.stop(5000);
    await vaultEtcd?.close();
    await cluster?.stop();
    if (dir !== undefined) {
      fs.rmSync(dir, { recursive: true, force: true });
      forgetDir(dir);
    }
  });

  it('check-config: exit 0 and the listeners for a good file; exit 1 naming the file and the field for a bad one', async () => {
    const good = await runCli(['check-config', configPath], { ...process.env, ROUTER_TEST_ETCD_PASSWORD: ETCD_PASSWORD });
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(good.stdout).toContain(`${configPath}: OK`);
    expect(good.stdout).toContain(`listener primary 127.0.0.1:${primary.port} -> primary of ${cluster.scope}`);
    expect(good.stdout).toContain('(token required)');
    expect(good.stdout).not.toContain(ADMIN_TOKEN);

    const badPath = path.join(dir, 'bad.yml');
    fs.writeFileSync(badPath, routerYaml([], `  - {name: primary, cluster: ${cluster.scope}, port: 70000, route: primary}`));
    const bad = await runCli(['check-config', badPath], { ...process.env, ROUTER_TEST_ETCD_PASSWORD: ETCD_PASSWORD });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(badPath);
    expect(bad.stdout).toContain('listeners[0].port');

    // The secret's variable missing is named too, without any value.
    const unset = await runCli(['check-config', configPath], Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'ROUTER_TEST_ETCD_PASSWORD')));
    expect(unset.code).toBe(1);
    expect(unset.stdout).toContain('clusters[1].etcd3.password_env: environment variable ROUTER_TEST_ETCD_PASSWORD is not set');
  });

  it('status: the member table with the leader, exit 0; a wrong token exits 1', async () => {
    const leader = await cluster.leader();
    expect(leader).toBeDefined();
    const shown = await runCli(['status', '--admin', `http://127.0.0.1:${adminPort}`, '--token', ADMIN_TOKEN]);
    expect(shown.code, shown.stdout + shown.stderr).toBe(0);
    const leaderRow = shown.stdout.split('\n').find((line) => line.startsWith(`| ${leader} `));
    expect(leaderRow, shown.stdout).toMatch(/\| Leader +\|/);
    expect(shown.stdout).toContain(`Cluster: ${cluster.scope}`);
    expect(shown.stdout).toContain('Cluster: vault');

    const refused = await runCli(['status', '--admin', `http://127.0.0.1:${adminPort}`, '--token', 'not-the-token']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('needs the admin token');
  });

  it('SIGHUP with one more listener: the new listener serves a replica, the open session keeps its backend', async () => {
    kept = await connect(primary.port, credentials.scram);
    expect(await scalar(kept, 'SELECT 1')).toBe(1);
    keptPid = Number(await scalar(kept, 'SELECT pg_backend_pid()'));

    fs.writeFileSync(configPath, routerYaml([primary, replicas]));
    const from = router.lines.length;
    router.signal('SIGHUP');
    const reloaded = await router.waitForLog('configuration reloaded', { from });
    expect((reloaded.listeners as { added: string[]; unchanged: string[] }).added).toEqual(['replicas']);
    expect((reloaded.listeners as { added: string[]; unchanged: string[] }).unchanged).toEqual(['primary']);

    const reader = await connect(replicas.port);
    expect(await scalar(reader, 'SELECT pg_is_in_recovery()')).toBe(true);
    await reader.end();

    expect(await scalar(kept, 'SELECT 1')).toBe(1);
    expect(Number(await scalar(kept, 'SELECT pg_backend_pid()'))).toBe(keptPid);
  });

  it('SIGHUP with an invalid file: refused naming the field, both listeners still serve, the session lives on', async () => {
    // Valid YAML, invalid configuration.
    fs.writeFileSync(configPath, routerYaml([], '  - {name: x}'));
    let from = router.lines.length;
    router.signal('SIGHUP');
    const refused = await router.waitForLog('reload refused; the running configuration stays', { from });
    const reasons = (refused.reason as string[]).join('; ');
    expect(reasons).toContain('listeners[0].port');
    expect(reasons).toContain('listeners[0].route');
    expect(refused.config).toBe(configPath);

    // Not YAML at all.
    fs.writeFileSync(configPath, 'listeners: [ {name: x\n  : : :\n');
    from = router.lines.length;
    router.signal('SIGHUP');
    const garbage = await router.waitForLog('reload refused; the running configuration stays', { from });
    expect((garbage.reason as string[]).join('; ')).toMatch(/^YAML: /);

    const writer = await connect(primary.port);
    expect(await scalar(writer, 'SELECT pg_is_in_recovery()')).toBe(false);
    await writer.end();
    const reader = await connect(replicas.port);
    expect(await scalar(reader, 'SELECT pg_is_in_recovery()')).toBe(true);
    await reader.end();
    expect(Number(await scalar(kept, 'SELECT pg_backend_pid()'))).toBe(keptPid);
    await kept.end();

    fs.writeFileSync(configPath, routerYaml([primary, replicas]));
  });

  it(`SIGTERM: listeners close at once, an idle session and a busy one are ended at drain_timeout (${DRAIN_TIMEOUT_MS} ms), exit 0`, async () => {
    const leader = await cluster.leader();
    if (leader === undefined) throw new Error('no leader');
    const idle = await connect(primary.port);
    const idleErrors: Array<Error & { code?: string }> = [];
    idle.on('error', (err) => idleErrors.push(err));
    expect(await scalar(idle, 'SELECT 1')).toBe(1);
    const busy = await connect(primary.port);
    busy.on('error', () => undefined);
    const busyQuery = busy.query('SELECT pg_sleep(30)').then(
      () => undefined,
      (err: Error & { code?: string }) => err,
    );
    await waitFor(
      'the busy query to run on the leader',
      async () => Number(await cluster.sql(leader, "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'")) === 1,
    );

    const signalledAt = Date.now();
    router.signal('SIGTERM');
    await waitFor('the primary listener to refuse connections', async () => (await tcpProbe(primary.port)) === 'refused', { timeoutMs: 2000, intervalMs: 10 });
    const refusedAfterMs = Date.now() - signalledAt;
    expect(await tcpProbe(replicas.port)).toBe('refused');
    expect(refusedAfterMs).toBeLessThan(1000);

    const busyError = await busyQuery;
    const busyEndedAfterMs = Date.now() - signalledAt;
    const exit = await Promise.race([router.exited, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), DRAIN_TIMEOUT_MS + PROXY_LINGER_CAP_MS + 5000))]);
    if (exit === 'late') throw new Error(`the router did not exit within ${DRAIN_TIMEOUT_MS + PROXY_LINGER_CAP_MS + 5000} ms of SIGTERM\n${router.tail()}`);
    const exitAfterMs = exit.at - signalledAt;
    // The router cancelled the busy query on the member when it cut the session.
    await waitFor(
      'the cut pg_sleep to be cancelled on the leader',
      async () => Number(await cluster.sql(leader, "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'")) === 0,
      { timeoutMs: 5000 },
    );
    const leftOver = await cluster.sql(leader, "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'");
    console.log(
      `SIGTERM: listener refused after ${refusedAfterMs} ms, busy session cut after ${busyEndedAfterMs} ms (${busyError?.code ?? busyError?.message}), ` +
        `exit ${exit.code} after ${exitAfterMs} ms (drain_timeout ${DRAIN_TIMEOUT_MS} ms); pg_sleep still running on ${leader} after the exit: ${leftOver.trim()}`,
    );
    expect(exit.code).toBe(0);
    // Sessions get the whole drain_timeout; the exit follows within the proxy's linger cap.
    expect(busyEndedAfterMs).toBeGreaterThanOrEqual(DRAIN_TIMEOUT_MS - 100);
    expect(exitAfterMs).toBeGreaterThanOrEqual(DRAIN_TIMEOUT_MS - 100);
    expect(exitAfterMs).toBeLessThan(DRAIN_TIMEOUT_MS + PROXY_LINGER_CAP_MS + 2000);

    // The idle session hears why (FATAL 57P01 between messages).
    await waitFor('the idle client to get 57P01', () => idleErrors.some((e) => e.code === SHUTDOWN), { timeoutMs: 2000 });
    expect(idleErrors.find((e) => e.code === SHUTDOWN)?.message).toContain('shutting down');
    // The busy one waits on a query that has sent nothing yet: the backend stream is between
    // messages, so it hears why too, as from pg_terminate_backend (Session.terminate).
    expect(busyError).toBeInstanceOf(Error);
    expect(busyError?.code).toBe(SHUTDOWN);
    expect(busyError?.message).toContain('shutting down');

    await router.waitForLog('stopped');
    const endings = router.lines.filter((l) => l.msg === 'session ended' && l.level === 30 && l.durationMs !== undefined);
    expect(endings.slice(-2).map((l) => l.ending)).toEqual(['shutdown', 'shutdown']);
  });

  it('SIGTERM when the last session ends by itself: exit 0 well before drain_timeout', async () => {
    const second = path.join(dir, 'router-2.yml');
    adminPort = await freePort();
    const listener: Listener = { name: 'primary', port: await freePort(), route: 'primary' };
    fs.writeFileSync(second, routerYaml([listener]));
    const r2 = await startRouterProcess(second);
    const client = new pg.Client({ host: '127.0.0.1', port: listener.port, database: 'postgres', user: 'postgres', connectionTimeoutMillis: 20_000 });
    clients.push(client);
    const errors: Error[] = [];
    client.on('error', (err) => errors.push(err));
    await client.connect();
    expect(await scalar(client, 'SELECT 1')).toBe(1);

    const signalledAt = Date.now();
    const from = r2.lines.length;
    r2.signal('SIGTERM');
    await r2.waitForLog('draining', { from, timeoutMs: 2000 });
    await client.end();
    const endedAt = Date.now();
    const exit = await Promise.race([r2.exited, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), DRAIN_TIMEOUT_MS + 3000))]);
    if (exit === 'late') throw new Error(`the second router did not exit\n${r2.tail()}`);
    console.log(`SIGTERM with a session that ends ${endedAt - signalledAt} ms later: exit after ${exit.at - signalledAt} ms (drain_timeout ${DRAIN_TIMEOUT_MS} ms)`);
    expect(exit.code).toBe(0);
    expect(exit.at - endedAt).toBeLessThan(1000);
    expect(exit.at - signalledAt).toBeLessThan(DRAIN_TIMEOUT_MS / 2);
    expect(errors).toEqual([]);
    const ended = r2.lines.filter((l) => l.msg === 'session ended' && l.level === 30);
    expect(ended.map((l) => l.ending)).toEqual(['client-closed']);
  });

  it('logs: no secret in any line of either process; one `session ended` line per closed session, with its fields', () => {
    expect(router.running).toBe(false);
    for (const r of everyRouter) {
      const text = r.output();
      expect(
        r.lines.some((l) => l.level === 20),
        'debug lines were printed',
      ).toBe(true);
      expect(r.lines.filter((l) => l.unparsed === true)).toEqual([]);
      for (const secret of [ADMIN_TOKEN, ETCD_PASSWORD, credentials.scram.password, Buffer.from(`root:${ETCD_PASSWORD}`).toString('base64')]) {
        expect(text.includes(secret), `a secret in the output of router ${r.pid}`).toBe(false);
      }
    }
    const messages = new Set(router.lines.map((l) => l.msg));
    for (const m of ['patroni-router started', 'configuration reloaded', 'reload refused; the running configuration stays', 'draining', 'stopped']) expect(messages).toContain(m);

    const ended: LogLine[] = router.lines.filter((l) => l.msg === 'session ended' && l.level === 30);
    expect(ended).toHaveLength(sessionsOpened);
    for (const line of ended) {
      expect(line).toMatchObject({ listener: expect.stringMatching(/^(primary|replicas)$/), member: expect.stringMatching(/^pg\d$/), ending: expect.any(String) });
      expect(line.durationMs).toEqual(expect.any(Number));
      expect(line.bytesIn).toBeGreaterThan(0);
      expect(line.bytesOut).toBeGreaterThan(0);
    }
    expect(ended.filter((l) => l.listener === 'replicas')).toHaveLength(2);
  });
});
