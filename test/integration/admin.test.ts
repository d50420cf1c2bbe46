/**
 * The admin API and the status page against a real Patroni cluster: /topology explains every
 * exclusion rule, /metrics moves with real sessions and times a real switchover, and the
 * status page in headless Chromium follows the switchover without a reload.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopologyReport } from '../../src/admin/topology-report.js';
import type { RouterEvent } from '../../src/observe/event-log.js';
import { startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import { startRouter, type RouterUnderTest } from '../support/router-under-test.js';

const TOKEN = 'admin-test-token';
const MB = 1024 * 1024;
const CHROMIUM = '/usr/bin/chromium';
/** The README's picture is refreshed only on request (UPDATE_SCREENSHOT=1), so a test run leaves the tree clean. */
const README_SCREENSHOT = path.resolve(import.meta.dirname, '../../docs/status-page.png');

describe('admin API and status page on a real cluster', () => {
  let cluster: PatroniCluster;
  let router: RouterUnderTest;
  /** The router's own admin server, as `admin:` in its configuration starts it. */
  let adminUrl: string;
  let browser: BrowserContext | undefined;
  let profileDir: string | undefined;
  let leader: string;
  let dc1: string; // replica tagged datacenter=dc1
  let dc2: string; // replica tagged datacenter=dc2 and noloadbalance
  const clients: pg.Client[] = [];

  const get = async (p: string): Promise<Response> => fetch(`${adminUrl}${p}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  const topology = async (): Promise<TopologyReport> => (await (await get('/topology')).json()) as TopologyReport;
  const metricsText = async (): Promise<string> => (await get('/metrics')).text();
  const sample = (text: string, name: string, labels: Record<string, string>): number | undefined => {
    const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      const inside = line.slice(name.length + 1, line.indexOf('}'));
      const parts = inside.split(',');
      if (want.every((w) => parts.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return undefined;
  };
  const explanation = (report: TopologyReport, listener: string) => report.listeners.find((l) => l.name === listener)!;
  const verdict = (report: TopologyReport, listener: string, member: string) => explanation(report, listener).explanation?.members.find((m) => m.member === member);

  async function connect(listener: string): Promise<pg.Client> {
    const client = new pg.Client({ ...router.connection(listener), connectionTimeoutMillis: 20_000 });
    client.on('error', () => {}); // fenced sessions end with an error the test expects
    await client.connect();
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    cluster = await startCluster({ members: 3 });
    leader = await cluster.waitForHealthy();
    [dc1, dc2] = cluster.members
      .map((m) => m.name)
      .filter((n) => n !== leader)
      .sort() as [string, string];
    await cluster.setTags(dc1, { datacenter: 'dc1' });
    await cluster.setTags(dc2, { datacenter: 'dc2', noloadbalance: true });

    router = await startRouter(
      cluster,
      [
        '  - {name: primary, port: 0, route: primary, hold_timeout: 45s}',
        '  - {name: replicas, port: 0, route: replica, max_lag: 1MB}',
        '  - {name: dc1, port: 0, route: replica, tags: {datacenter: dc1}}',
        '  - {name: dc2, port: 0, route: replica, tags: {datacenter: dc2}}',
      ].join('\n'),
      { admin: `{host: 127.0.0.1, port: 0, token: ${TOKEN}}`, extraYaml: 'topology: {probe_interval: 500ms, probe_timeout: 400ms}\n' },
    );
    adminUrl = router.router.adminUrl() ?? '';
    expect(adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await waitFor('the router to see the tags and the primary', async () => {
      const state = (await topology()).clusters[0]?.state;
      return (
        state?.writablePrimary === leader &&
        state.members.find((m) => m.name === dc2)?.tags.noloadbalance === true &&
        state.members.find((m) => m.name === dc1)?.tags.raw['datacenter'] === 'dc1'
      );
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    await browser?.close().catch(() => {});
    if (profileDir !== undefined) fs.rmSync(profileDir, { recursive: true, force: true });
    await router?.stop();
    await cluster?.stop();
  });

  it('is alive, ready, and guarded by the token', async () => {
    expect((await fetch(`${adminUrl}/health`)).status).toBe(200);
    expect((await fetch(`${adminUrl}/topology`)).status).toBe(401);
    expect((await get('/ready')).status).toBe(200);
  });

  it('explains on /topology why each member is or is not used: role, noloadbalance, tag, lag', async () => {
    let report = await topology();
    expect(explanation(report, 'primary').wouldUse).toEqual([leader]);
    expect(verdict(report, 'primary', dc1)).toMatchObject({ eligible: false, reason: 'role' });
    expect(explanation(report, 'replicas').wouldUse).toEqual([dc1]);
    expect(verdict(report, 'replicas', leader)).toMatchObject({ eligible: false, reason: 'role' });
    expect(verdict(report, 'replicas', dc2)).toMatchObject({ eligible: false, reason: 'noloadbalance' });
    expect(explanation(report, 'dc1').wouldUse).toEqual([dc1]);
    // dc2's only member is tagged noloadbalance: nothing left, and the report says why.
    expect(explanation(report, 'dc2')).toMatchObject({ wouldUse: [] });
    expect(explanation(report, 'dc2').explanation!.reason).toContain(`${dc2} is tagged noloadbalance`);
    expect(verdict(report, 'dc2', dc1)).toMatchObject({ eligible: false, reason: 'tag' });
    expect(verdict(report, 'dc2', dc2)).toMatchObject({ eligible: false, reason: 'noloadbalance' });

    // Real lag: stop replay on dc1 and write a few MB on the primary.
    await cluster.sql(dc1, 'SELECT pg_wal_replay_pause()');
    try {
      await cluster.sql(leader, "CREATE TABLE lag_filler AS SELECT repeat('x', 1000) AS pad FROM generate_series(1, 4000)");
      report = await waitFor('dc1 to be excluded for lag', async () => {
        const r = await topology();
        return verdict(r, 'replicas', dc1)?.reason === 'lag' ? r : undefined;
      });
      expect(verdict(report, 'replicas', dc1)!.detail).toMatch(/max 1 MB/);
      expect(explanation(report, 'replicas')).toMatchObject({ wouldUse: [] });
      expect(report.clusters[0]!.state!.members.find((m) => m.name === dc1)!.lagBytes).toBeGreaterThan(MB);
      expect(sample(await metricsText(), 'patroni_router_member_lag_bytes', { member: dc1 })).toBeGreaterThan(MB);
    } finally {
      await cluster.sql(dc1, 'SELECT pg_wal_replay_resume()');
    }
    await waitFor('dc1 to catch up', async () => (await topology()).listeners.find((l) => l.name === 'replicas')?.wouldUse.includes(dc1));
  });

  it('moves /metrics as real sessions open and close', async () => {
    const before = await metricsText();
    const acceptedBefore = sample(before, 'patroni_router_connections_accepted_total', { listener: 'primary' }) ?? 0;
    const opened = await Promise.all([connect('primary'), connect('primary'), connect('replicas')]);
    for (const c of opened) await c.query('SELECT 1');
    await waitFor('the session gauges to count 2 on the primary and 1 on a replica', async () => {
      const text = await metricsText();
      return (
        sample(text, 'patroni_router_sessions', { listener: 'primary', member: leader }) === 2 &&
        sample(text, 'patroni_router_sessions', { listener: 'replicas', member: dc1 }) === 1
      );
    });
    const during = await metricsText();
    expect(sample(during, 'patroni_router_connections_accepted_total', { listener: 'primary' })).toBe(acceptedBefore + 2);
    expect(sample(during, 'patroni_router_member_role', { member: leader, role: 'primary' })).toBe(1);
    expect(sample(during, 'patroni_router_dcs_watch_state', { state: 'connected' })).toBe(1);
    expect(sample(during, 'patroni_router_dcs_last_contact_seconds', {})).toBeLessThan(10);
    expect(during).toContain('process_resident_memory_bytes');
    const report = await topology();
    expect(report.clusters[0]!.sessionsByMember[leader]).toEqual({ primary: 2 });

    await Promise.all(opened.map((c) => c.end()));
    clients.splice(0);
    await waitFor('the session gauges to drop to 0', async () => {
      const text = await metricsText();
      return (
        sample(text, 'patroni_router_sessions', { listener: 'primary', member: leader }) === 0 &&
        sample(text, 'patroni_router_sessions', { listener: 'replicas', member: dc1 }) === 0
      );
    });
    const after = await metricsText();
    expect(sample(after, 'patroni_router_bytes_relayed_total', { listener: 'primary', direction: 'server_to_client' })).toBeGreaterThan(0);
    expect(sample(after, 'patroni_router_sessions_ended_total', { listener: 'primary', ending: 'client-closed' })).toBe(2);
  });

  it('shows the live status page with the leader, and follows a switchover without a reload', async () => {
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'status-page-chromium-'));
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1480, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page: Page = await browser.newPage();
    await page.goto(`${adminUrl}/?token=${TOKEN}`);
    await page.waitForFunction((name) => document.querySelector('[data-testid=leader]')?.textContent === `primary ${name}`, leader, { timeout: 15_000 });
    expect(new URL(page.url()).search).toBe(''); // the token left the address bar
    expect(await page.getAttribute(`tr[data-member="${leader}"]`, 'data-role')).toBe('Leader');
    expect(await page.textContent('[data-listener="primary"] [data-testid=routes-to]')).toBe(leader);
    expect(await page.textContent(`[data-listener="replicas"]`)).toContain(`${dc2} is tagged noloadbalance`);

    // A session on the old primary, to be fenced; then the switchover.
    const old = await connect('primary');
    await old.query('SELECT 1');
    const loadedAt = await page.evaluate(() => performance.timeOrigin);
    await cluster.switchover(dc1);
    await waitFor(`the router to route writes to ${dc1}`, async () => (await topology()).listeners.find((l) => l.name === 'primary')?.wouldUse[0] === dc1, { timeoutMs: 60_000 });
    const fresh = await connect('primary');
    expect(await fresh.query('SELECT pg_is_in_recovery() AS r')).toMatchObject({ rows: [{ r: false }] });

    await page.waitForFunction((name) => document.querySelector('[data-testid=leader]')?.textContent === `primary ${name}`, dc1, { timeout: 15_000 });
    expect(await page.evaluate(() => performance.timeOrigin)).toBe(loadedAt); // same document: no reload
    expect(await page.getAttribute(`tr[data-member="${dc1}"]`, 'data-role')).toBe('Leader');
    await page.waitForFunction(() => (document.querySelector('[data-testid=failover]')?.textContent ?? '').includes('first session routed'), undefined, { timeout: 15_000 });
    expect(await page.evaluate(() => document.querySelector('[data-testid=failover]')?.textContent ?? '')).toContain('demote begun');
    await page.waitForFunction(() => !(document.querySelector('[data-testid=failover]')?.textContent ?? '').includes('\u2026'), undefined, { timeout: 15_000 });
    await page.waitForFunction(
      (name) =>
        (document.getElementById('events')?.textContent ?? '').includes(`leader`) &&
        (document.getElementById('events')?.textContent ?? '').includes(`usable`) &&
        (document.getElementById('events')?.textContent ?? '').includes(name),
      dc1,
      { timeout: 15_000 },
    );
    // For the README: the picture once the old primary is back as a replica.
    await waitFor(`${leader} to rejoin as a replica`, async () => (await topology()).listeners.find((l) => l.name === 'replicas')?.wouldUse.includes(leader), {
      timeoutMs: 60_000,
    });
    await page.waitForFunction((name) => document.querySelector(`tr[data-member="${name}"]`)?.getAttribute('data-role') === 'Replica', leader, { timeout: 15_000 });
    const screenshot = process.env['UPDATE_SCREENSHOT'] === '1' ? README_SCREENSHOT : path.join(profileDir!, 'status-page.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(fs.statSync(screenshot).size).toBeGreaterThan(10_000);
  });

  it('recorded the switchover on /metrics (phases, failovers, fencing) and on /events', async () => {
    const text = await waitFor('all three failover phases on /metrics', async () => {
      const t = await metricsText();
      return sample(t, 'patroni_router_failover_phase_seconds_count', { phase: 'first_session_routed' }) === 1 ? t : undefined;
    });
    const phases = Object.fromEntries(
      ['demote_begun', 'old_primary_fenced', 'new_primary_usable', 'first_session_routed'].map((phase) => [
        phase,
        sample(text, 'patroni_router_failover_phase_seconds_sum', { phase }),
      ]),
    );
    console.info(`[admin.test] switchover ${leader} -> ${dc1} phases (s since the failover key appeared): ${JSON.stringify(phases)}`);
    // Patroni announced the demote in the old primary's member key before that primary was fenced.
    expect(phases['demote_begun']).toBeGreaterThanOrEqual(0);
    expect(phases['old_primary_fenced']).toBeGreaterThanOrEqual(phases['demote_begun']!);
    expect(phases['new_primary_usable']).toBeGreaterThanOrEqual(phases['old_primary_fenced']!);
    expect(phases['first_session_routed']).toBeGreaterThanOrEqual(phases['new_primary_usable']!);
    expect(phases['first_session_routed']).toBeLessThan(60);
    expect(sample(text, 'patroni_router_failovers_total', {})).toBe(1);
    // The old primary's session ends either by fencing or by Patroni stopping PostgreSQL first.
    const fenced = sample(text, 'patroni_router_fenced_sessions_total', { listener: 'primary', member: leader }) ?? 0;
    const closedByBackend = sample(text, 'patroni_router_sessions_ended_total', { listener: 'primary', ending: 'backend-closed' }) ?? 0;
    expect(fenced + closedByBackend).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'patroni_router_member_role', { member: dc1, role: 'primary' })).toBe(1);

    const { events: recent } = (await (await get('/events')).json()) as { events: RouterEvent[] };
    const messages = recent.map((e) => `${e.kind}: ${e.message}`);
    // Patroni 3.0 deletes the leader key and the candidate takes it: two steps.
    expect(messages).toContain(`leader: leader ${leader} -> (none)`);
    expect(messages).toContain(`leader: leader (none) -> ${dc1}`);
    expect(messages).toContain(`leader: writable primary (none) -> ${dc1}`);
    if (fenced > 0) expect(recent.some((e) => e.kind === 'fenced' && e.member === leader)).toBe(true);
    expect(messages.some((m) => m.startsWith('failover: failover started: failover key set'))).toBe(true);
    expect(messages.some((m) => m.startsWith(`failover: first session routed to ${dc1} after`))).toBe(true);
    // Newest first.
    expect(recent.map((e) => e.seq)).toEqual([...recent.map((e) => e.seq)].sort((a, b) => b - a));
  });
});
