/**
 * A write session whose login passes on a member in hot standby is held, and logged in again
 * on the primary once there is one: the client sees a longer login, never an error. The real
 * way it happens: etcd goes away, Patroni demotes the primary it can no longer vouch for
 * (retry_timeout), while the router's last view still names it (within ttl, dcs_loss_writes).
 * The chaos run of 2026-12-01T23-53-21 found the router refusing such sessions with 25006.
 * That login is also a signal: the router asks the member's REST API at once, so the sessions
 * after it wait for a primary without logging in on the standby.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/topology/cluster-state.js';
import { credentials, startCluster, waitFor, type ClusterOptions, type PatroniCluster } from '../cluster/index.js';
import { authYaml, setUpAuthRole } from '../support/auth-role.js';
import { cancelThrough } from '../support/cancel-through.js';
import { RecordingEvents } from '../support/recording-events.js';
import { startRouter, type RouterUnderTest } from '../support/router-under-test.js';

const LISTENERS = '  - {name: app, port: 0, route: primary, hold_timeout: 90s}';
/** Logged once per session, when its attempt on a member ends unseen by the client. */
const GAVE_WAY = 'member could not take the session; trying the next candidate';

/** psql through the router as the SCRAM user; resolves with its output once it ends. */
function psql(port: number, sql: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('psql', ['-XAtq', '-h', '127.0.0.1', '-p', String(port), '-U', credentials.scram.user, '-d', 'postgres', '-c', sql], {
      // Plain: TLS passed through to a member is the member's to judge, as behind HAProxy.
      env: { ...process.env, PGSSLMODE: 'disable', PGPASSWORD: credentials.scram.password, PGCONNECT_TIMEOUT: '120', PGAPPNAME: 'standby-login-psql' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() }));
  });
}

describe.each([
  ['Patroni 3.0.2, TLS members, mixed hba', {}, 'node-postgres'],
  ['Patroni 4.0.7, ssl off, scram everywhere', { patroni: '4', ssl: false, hba: 'scram-sha-256' }, 'psql'],
] as Array<[string, ClusterOptions, 'node-postgres' | 'psql']>)('a write login that lands on a hot standby, on %s (first login: %s)', (_shape, clusterOptions, first) => {
  let cluster: PatroniCluster;
  let leader: string;
  let router: RouterUnderTest;
  const events = new RecordingEvents();

  beforeAll(async () => {
    cluster = await startCluster({ members: 3, ...clusterOptions });
    leader = await cluster.waitForHealthy();
    await setUpAuthRole(cluster, leader);
    await cluster.sql(leader, `CREATE TABLE standby_login(x int); GRANT SELECT, INSERT ON standby_login TO ${credentials.scram.user}`);
    // The router's REST probes see a demotion within probe_interval (1 s by default): the window
    // a busy pool met in the chaos run. With 10 minutes between them, only the login's doubt asks.
    router = await startRouter(cluster, LISTENERS, { extraYaml: `${authYaml()}topology: {probe_interval: 10m}\n`, events: [events] });
    await waitFor('the router to know the primary', () => router.router.feeds().get(cluster.scope)?.current()?.writablePrimary === leader);
  });

  afterAll(async () => {
    await router?.stop();
    await cluster?.stop();
  });

  it('waits while etcd is down and the primary it names was demoted, then goes on on the primary; the next login waits unseen', async () => {
    const view = (): ClusterState | undefined => router.router.feeds().get(cluster.scope)?.current();
    await cluster.etcd.stop();
    try {
      await waitFor(`${leader} to give up writes while etcd is down`, async () => (await cluster.sql(leader, 'SELECT pg_is_in_recovery()')) === 't', {
        timeoutMs: (cluster.ttl + cluster.loopWait + 30) * 1000,
        intervalMs: 100,
        diagnostics: () => cluster.diagnostics(10),
      });
      // The window this is about: the router's view (stale, within ttl) still names the demoted member.
      expect(view()?.stale).toBe(true);
      expect(view()?.writablePrimary).toBe(leader);
      const client = new pg.Client(router.connection('app', { user: credentials.scram.user, password: credentials.scram.password, application_name: 'standby-login' }));
      client.on('error', () => {});
      const sql = 'SELECT inet_server_port(), pg_is_in_recovery(), current_setting($$application_name$$)';
      let viaPsql: ReturnType<typeof psql> | undefined;
      let connecting: Promise<unknown> | undefined;
      if (first === 'psql') viaPsql = psql(router.port('app'), sql);
      else connecting = client.connect();
      await waitFor(
        'the login to pass on the demoted member and wait',
        () => router.logLines().some((l) => l['msg'] === GAVE_WAY && l['reason'] === `${leader} is in hot standby (read-only)`),
        {
          timeoutMs: 15_000,
          intervalMs: 20,
          diagnostics: () => JSON.stringify(router.logLines().slice(-15)),
        },
      );
      // That login made the router ask the member's REST API (nothing else would, for 10 minutes).
      await waitFor(
        'the router to stop naming the demoted member',
        () => view()?.writablePrimary === undefined && view()?.members.find((m) => m.name === leader)?.observed?.role === 'replica',
        {
          timeoutMs: 10_000,
          intervalMs: 20,
        },
      );
      if (first === 'psql') connecting = client.connect();
      else viaPsql = psql(router.port('app'), sql);
      await waitFor('the second session to hold for a primary', () => router.router.sessionsOf('app').filter((s) => s.describe().phase === 'holding').length === 2, {
        intervalMs: 20,
      });
      await cluster.etcd.start();
      await connecting;
      const primary = await cluster.waitForHealthy();
      const row = (
        await client.query<{ port: number; ro: boolean; app: string }>("SELECT inet_server_port() AS port, pg_is_in_recovery() AS ro, current_setting('application_name') AS app")
      ).rows[0];
      expect(row).toEqual({ port: cluster.member(primary).port, ro: false, app: 'standby-login' });
      await client.query('INSERT INTO standby_login VALUES (1)');
      expect(await cluster.sql(primary, 'SELECT count(*) FROM standby_login')).toBe('1');
      // The client's cancel key is the router's, and names its backend wherever it logged in.
      const sleeping = client.query('SELECT pg_sleep(30)').then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
      await waitFor('the sleep to run', async () => (await cluster.sql(primary, "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'")) === '1', {
        intervalMs: 50,
      });
      await cancelThrough(router.port('app'), client);
      expect((await sleeping)?.code).toBe('57014');
      await client.end();
      const fromPsql = await viaPsql!;
      expect(fromPsql.stderr).toBe('');
      expect(fromPsql.stdout).toBe(`${cluster.member(primary).port}|f|standby-login-psql`);
      // One login passed on the standby and moved; the other never reached it.
      expect(router.logLines().filter((l) => l['msg'] === GAVE_WAY && l['reason'] === `${leader} is in hot standby (read-only)`)).toHaveLength(1);
      expect(
        events.of('sessionMoved').filter((m) => m['from'] === leader),
        JSON.stringify(events.of('sessionMoved')),
      ).toHaveLength(1);
      expect(events.of('refused')).toEqual([]);
    } finally {
      await cluster.etcd.start();
    }
  });
});
