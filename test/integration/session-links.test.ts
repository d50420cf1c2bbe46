/**
 * Issue 13 on a real cluster: a session logs in once, through the router, and the router opens
 * links to the two other members as the same user, with what it learned from that login and
 * the auth_query: the SCRAM ClientKey, the md5 hash, nothing (trust). PostgreSQL judges every
 * login; its own answers reach the client; no secret reaches a log, a metric or the admin API.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import { createSelfSignedCert } from '../cluster/tls-cert.js';
import { authYaml, setUpAuthRole } from '../support/auth-role.js';
import { cancelThrough } from '../support/cancel-through.js';
import { startRouter, type RouterUnderTest } from '../support/router-under-test.js';

const LISTENERS = ['  - {name: app, port: 0, route: primary, links: true}', '  - {name: plain, port: 0, route: primary}'].join('\n');

/** psql through the router, with libpq's defaults otherwise; resolves with its output. */
function psql(
  port: number,
  user: string,
  password: string | undefined,
  sql: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('psql', ['-XAtq', '-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', 'postgres', '-c', sql], {
      env: { ...process.env, PGCONNECT_TIMEOUT: '10', ...(password !== undefined ? { PGPASSWORD: password } : {}), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() }));
  });
}

describe('sessions that open more links as their own user', () => {
  let cluster: PatroniCluster;
  let leader: string;
  let others: string[];
  let router: RouterUnderTest;
  let terminating: RouterUnderTest;
  let tlsDir: string;
  const linkTimes: number[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ members: 3 });
    leader = await cluster.waitForHealthy();
    others = cluster.members.map((m) => m.name).filter((n) => n !== leader);
    await setUpAuthRole(cluster, leader);
    await cluster.sql(leader, `CREATE ROLE nologin NOLOGIN; CREATE ROLE ${credentials.rejected.user} LOGIN PASSWORD '${credentials.rejected.password}'; CREATE ROLE dropme LOGIN`);
    await waitFor('the roles on every member', async () =>
      (await Promise.all(others.map((m) => cluster.sql(m, "SELECT count(*) FROM pg_roles WHERE rolname = 'dropme'")))).every((n) => n === '1'),
    );
    router = await startRouter(cluster, LISTENERS, { extraYaml: authYaml(), logLevel: 'trace' });
    tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'links-tls-'));
    const cert = await createSelfSignedCert(tlsDir);
    terminating = await startRouter(cluster, LISTENERS, {
      extraYaml: `${authYaml()}tls: {cert: ${cert.certFile}, key: ${cert.keyFile}, backend: {mode: require}}\n`,
      logLevel: 'trace',
    });
    for (const r of [router, terminating]) await waitFor('the router to know the primary', () => r.router.feeds().get(cluster.scope)?.current()?.writablePrimary === leader);
  });

  afterAll(async () => {
    const sorted = [...linkTimes].sort((a, b) => a - b);
    if (sorted.length > 0)
      console.info(
        `[session-links] extra connection time per link over ${sorted.length}: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, p99 ${sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!.toFixed(1)} ms`,
      );
    await router?.stop();
    await terminating?.stop();
    await cluster?.stop();
    if (tlsDir) fs.rmSync(tlsDir, { recursive: true, force: true });
  });

  /** The one open session of a listener. */
  const theSession = (r: RouterUnderTest, listener: string) =>
    waitFor(`one session on ${listener}`, () => {
      const open = r.router.sessionsOf(listener).filter((s) => s.phase === 'relaying');
      return open.length === 1 ? open[0] : undefined;
    });

  /** Opens links to both other members and checks each runs as `user` on that member. */
  async function linksWork(r: RouterUnderTest, listener: string, user: string): Promise<void> {
    const session = await theSession(r, listener);
    for (const name of others) {
      const link = await session.openLink(name);
      linkTimes.push(link.openedInMs);
      const answer = await link.query('SELECT current_user, inet_server_port(), pg_is_in_recovery()');
      expect(answer.rows).toEqual([[user, String(cluster.member(name).port), 't']]);
      link.close();
    }
  }

  it.each([
    ['scramuser (SCRAM, ClientKey)', credentials.scram],
    ['md5user (md5 hash from auth_query)', credentials.md5],
    ['trustuser (trust)', credentials.trust],
  ])('node-postgres as %s: links to the two other members as the same user', async (_label, who) => {
    const client = new pg.Client(router.connection('app', { user: who.user, password: who.password }));
    await client.connect();
    await linksWork(router, 'app', who.user);
    expect((await client.query('SELECT current_user AS u')).rows[0]).toEqual({ u: who.user });
    await client.end();
  });

  it('psql with libpq defaults over TLS the router terminates (SCRAM answered by the router: the member would refuse channel_binding=prefer)', async () => {
    const run = psql(terminating.port('app'), credentials.scram.user, credentials.scram.password, 'SELECT current_user, pg_sleep(2)');
    await linksWork(terminating, 'app', credentials.scram.user);
    const result = await run;
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${credentials.scram.user}|`);
  });

  it('a CancelRequest with the key the router gave the client cancels the query on its link', async () => {
    const client = new pg.Client(router.connection('app', { user: credentials.scram.user, password: credentials.scram.password }));
    await client.connect();
    const running = client.query('SELECT pg_sleep(30)').catch((e: unknown) => e as Error & { code?: string });
    await waitFor('the query to run', async () => (await cluster.sql(leader, "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'")) === '1');
    await cancelThrough(router.port('app'), client);
    expect(await running).toMatchObject({ code: '57014' });
    await client.end();
  });

  it.each([
    ['a wrong SCRAM password', credentials.scram.user, 'wrong', '28P01', `password authentication failed for user "${credentials.scram.user}"`],
    ['a wrong md5 password', credentials.md5.user, 'wrong', '28P01', `password authentication failed for user "${credentials.md5.user}"`],
    ['a role without LOGIN', 'nologin', undefined, '28000', 'role "nologin" is not permitted to log in'],
    [
      'a pg_hba reject',
      credentials.rejected.user,
      credentials.rejected.password,
      '28000',
      `pg_hba.conf rejects connection for host "127.0.0.1", user "${credentials.rejected.user}"`,
    ],
  ])("%s gets PostgreSQL's own answer, through both routers", async (_label, user, password, code, message) => {
    for (const r of [router, terminating]) {
      const client = new pg.Client({
        ...r.connection('app', { user, ...(password !== undefined ? { password } : {}) }),
        ...(r === terminating ? { ssl: { rejectUnauthorized: false } } : {}),
      });
      client.on('error', () => {});
      const err = (await client.connect().catch((e: unknown) => e)) as { code?: string; message: string };
      expect(err, r === terminating ? 'terminating router' : 'plain router').toMatchObject({ code, message: expect.stringContaining(message) });
    }
  });

  it('a role past its VALID UNTIL gets 28P01, through both routers (libpq defaults over TLS for the terminating one)', async () => {
    await cluster.sql(leader, `ALTER ROLE ${credentials.scram.user} VALID UNTIL '2020-01-01'`);
    try {
      await waitFor('every member to see it', async () =>
        (await Promise.all(others.map((m) => cluster.sql(m, `SELECT rolvaliduntil < now() FROM pg_roles WHERE rolname = '${credentials.scram.user}'`)))).every((v) => v === 't'),
      );
      for (const r of [router, terminating]) {
        const result = await psql(
          r.port('app'),
          credentials.scram.user,
          credentials.scram.password,
          'SELECT 1',
          r === terminating ? { PGSSLMODE: 'require' } : { PGSSLMODE: 'disable' },
        );
        expect(result.stderr).toContain(`password authentication failed for user "${credentials.scram.user}"`);
      }
    } finally {
      await cluster.sql(leader, `ALTER ROLE ${credentials.scram.user} VALID UNTIL 'infinity'`);
    }
  });

  it('a user dropped while its session is open: the session runs on, a new link gets the role error from PostgreSQL', async () => {
    const client = new pg.Client(router.connection('app', { user: 'dropme' }));
    await client.connect();
    const session = await theSession(router, 'app');
    await cluster.sql(leader, 'DROP ROLE dropme');
    await waitFor('the drop to replicate', async () =>
      (await Promise.all(others.map((m) => cluster.sql(m, "SELECT count(*) FROM pg_roles WHERE rolname = 'dropme'")))).every((n) => n === '0'),
    );
    await expect(session.openLink(others[0]!)).rejects.toMatchObject({ sqlstate: '28000', message: expect.stringContaining('role "dropme" does not exist') });
    expect((await client.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    await client.end();
  });

  it('with a wrong auth role password: sessions stay on one member, a NOTICE says why, the log names the role and no secret', async () => {
    const wrong = await startRouter(cluster, LISTENERS, { extraYaml: authYaml('not-the-auth-password'), logLevel: 'trace' });
    try {
      await waitFor('the router to know the primary', () => wrong.router.feeds().get(cluster.scope)?.current()?.writablePrimary === leader);
      const client = new pg.Client(wrong.connection('app', { user: credentials.scram.user, password: credentials.scram.password }));
      const notices: string[] = [];
      client.on('notice', (n) => notices.push(n.message ?? ''));
      await client.connect();
      await waitFor('the NOTICE', () => notices.length > 0);
      expect(notices[0]).toMatch(/^patroni-router: this session cannot open more links \(the auth query failed: .*patroni_router_auth.*\); it stays on one member$/);
      const session = await theSession(wrong, 'app');
      await expect(session.openLink(others[0]!)).rejects.toThrow(/cannot open more links/);
      expect((await client.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
      await client.end();
      const failed = wrong.logLines().find((l) => l['msg'] === 'auth_query connection failed');
      expect(String(failed?.['err'])).toContain('patroni_router_auth');
      expect(JSON.stringify(wrong.logLines())).not.toContain('not-the-auth-password');
    } finally {
      await wrong.stop();
    }
  });

  it('no password, md5 hash, SCRAM key or verifier in any log line (trace), /metrics or the session descriptions', async () => {
    const stored = await cluster.sql(
      leader,
      `SELECT string_agg(rolpassword, ' ') FROM pg_authid WHERE rolname IN ('${credentials.scram.user}', '${credentials.md5.user}', '${credentials.authRole.user}')`,
    );
    const forbidden = [
      credentials.scram.password,
      credentials.md5.password,
      credentials.authRole.password,
      createHash('md5').update(`${credentials.md5.password}${credentials.md5.user}`).digest('hex'),
      ...stored.split(/[ $:]/).filter((part) => part.length >= 20),
    ];
    const everything = [
      JSON.stringify(router.logLines()),
      JSON.stringify(terminating.logLines()),
      await router.router.metrics.text(),
      JSON.stringify(router.router.sessions()),
    ].join('\n');
    for (const secret of forbidden) expect(everything.includes(secret), `a secret of ${secret.length} characters leaked`).toBe(false);
  });
});
