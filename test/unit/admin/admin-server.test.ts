import type { ListenerSessions } from '../../../src/proxy/proxy-server.js';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { AdminContext } from '../../../src/admin/admin-context.js';
import { AdminServer } from '../../../src/admin/admin-server.js';
import { bearerTokenMatches } from '../../../src/admin/bearer-token.js';
import type { TopologyReport } from '../../../src/admin/topology-report.js';
import type { ListenerConfig, RouterConfig } from '../../../src/config/types.js';
import { runStatus } from '../../../src/cli/status.js';
import { EventLog } from '../../../src/observe/event-log.js';
import { RouterMetrics } from '../../../src/observe/metrics.js';
import type { ClusterFeed } from '../../../src/topology/cluster-feed.js';
import type { ClusterState } from '../../../src/topology/cluster-state.js';
import { batman, MB } from '../routing/cluster-factory.js';
import { listenerConfig } from '../../support/listener-config.js';

function listener(name: string, port: number, overrides: Partial<ListenerConfig> = {}): ListenerConfig {
  return listenerConfig(name, 'batman', { port, holdTimeoutMs: 30_000, connectTimeoutMs: 5000, allowedTargets: ['primary'], ...overrides });
}

function config(token?: string): RouterConfig {
  return {
    clusters: [
      {
        scope: 'batman',
        namespace: '/service/',
        etcd: { api: 'etcd3', endpoints: ['http://127.0.0.1:2379'] },
        topology: { resyncIntervalMs: 5000, probeIntervalMs: 1000, probeTimeoutMs: 800, dcsLossWrites: 'ttl' },
      },
    ],
    listeners: [
      listener('primary', 5000),
      listener('replicas', 5001, { route: 'replica', maxLagBytes: MB }),
      listener('dc2', 5002, { route: 'replica', tags: { datacenter: 'dc2' }, fallback: 'primary' }),
      listener('sync', 5003, { route: 'sync', fallback: 'primary' }),
    ],
    tls: { backend: { mode: 'prefer' } },
    admin: { enabled: true, host: '127.0.0.1', port: 0, ...(token !== undefined ? { token } : {}) },
    log: { level: 'silent' },
    startupTimeoutMs: 10_000,
    authenticationTimeoutMs: 60_000,
    drainTimeoutMs: 30_000,
    targetParameterPrefix: 'patroni_router',
    workers: 1,
  };
}

/** A hand-fed router: fixed config, one cluster whose state the test sets. */
function context(token?: string): AdminContext & { state: ClusterState | undefined; isReady: boolean } {
  const ctx = {
    state: batman() as ClusterState | undefined,
    isReady: true,
    config: () => config(token),
    feeds: (): ReadonlyMap<string, ClusterFeed> => new Map([['batman', { scope: 'batman', current: () => ctx.state, subscribe: () => () => {} }]]),
    dcsHealth: () => [{ scope: 'batman', watch: 'connected', lastContact: 1000 }],
    listeners: () => [
      { name: 'primary', cluster: 'batman', route: 'primary' as const, host: '127.0.0.1', port: 15000, accepting: true, retired: false },
      { name: 'replicas', cluster: 'batman', route: 'replica' as const, host: '127.0.0.1', port: 15001, accepting: true, retired: false },
    ],
    sessions: (): ListenerSessions[] => [
      { listener: 'primary', cluster: 'batman', retired: false, total: 3, held: 1, byPhase: {}, byMember: { pg0: 2 } },
      { listener: 'replicas', cluster: 'batman', retired: false, total: 1, held: 0, byPhase: {}, byMember: { pg2: 1 } },
    ],
    ready: () => ctx.isReady,
  };
  return ctx;
}

const servers: AdminServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(token?: string): Promise<{ ctx: ReturnType<typeof context>; url: string; events: EventLog; metrics: RouterMetrics }> {
  const ctx = context(token);
  const events = new EventLog();
  const metrics = new RouterMetrics({ defaultMetrics: false });
  const server = new AdminServer({ context: ctx, metrics, events, logger: pino({ level: 'silent' }) });
  servers.push(server);
  await server.start();
  expect(server.port).toBeGreaterThan(0);
  return { ctx, url: server.url!, events, metrics };
}

describe('AdminServer without a token', () => {
  it('answers /health, and /ready 200 or 503 as the router says', async () => {
    const { ctx, url } = await start();
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(await (await fetch(`${url}/ready`)).json()).toEqual({ ready: true });
    ctx.isReady = false;
    const notReady = await fetch(`${url}/ready`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ready: false });
  });

  it('serves Prometheus text on /metrics', async () => {
    const { url, metrics } = await start();
    metrics.connectionAccepted({ listener: 'primary' });
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('patroni_router_connections_accepted_total{listener="primary"} 1');
  });

  it('explains per listener where a connection would go and why not elsewhere', async () => {
    const { ctx, url } = await start();
    ctx.state = batman({ members: batman().members.map((m) => (m.name === 'pg1' ? { ...m, lagBytes: 5 * MB } : m)) });
    const report = (await (await fetch(`${url}/topology`)).json()) as TopologyReport;
    expect(report.ready).toBe(true);
    expect(report.clusters[0]).toMatchObject({ scope: 'batman', dcs: { watch: 'connected' }, sessionsByMember: { pg0: { primary: 2 }, pg2: { replicas: 1 } } });
    expect(report.clusters[0]!.state!.writablePrimary).toBe('pg0');
    const [primary, replicas, dc2] = report.listeners;
    expect(primary).toMatchObject({ name: 'primary', port: 15000, accepting: true, wouldUse: ['pg0'], sessions: { total: 3, held: 1 } });
    expect(primary!.explanation!.members.filter((m) => !m.eligible).map((m) => [m.member, m.reason])).toEqual([
      ['pg1', 'role'],
      ['pg2', 'role'],
    ]);
    expect(replicas!.wouldUse).toEqual(['pg2']);
    expect(replicas!.explanation!.excluded.map((e) => [e.member, e.reason])).toEqual([
      ['pg0', 'role'],
      ['pg1', 'lag'],
    ]);
    expect(dc2).toMatchObject({ accepting: false, port: 5002, wouldUse: ['pg2'], routeUsed: 'replica' });
    expect(dc2!.explanation!.excluded.find((e) => e.member === 'pg1')!.reason).toBe('tag');
  });

  it('falls back in the report as routing would, and says when the topology is unknown', async () => {
    const { ctx, url } = await start();
    ctx.state = batman({ members: batman().members.filter((m) => m.name !== 'pg1') });
    let report = (await (await fetch(`${url}/topology`)).json()) as TopologyReport;
    expect(report.listeners[3]).toMatchObject({ name: 'sync', wouldUse: ['pg0'], routeUsed: 'primary' });
    expect(report.listeners[3]!.explanation!.fallback!.eligible).toEqual(['pg0']);
    ctx.state = batman({ members: batman().members.filter((m) => m.name !== 'pg2') });
    report = (await (await fetch(`${url}/topology`)).json()) as TopologyReport;
    // No dc2 replica: the fallback takes the primary, wherever it is (tags filter the route only).
    expect(report.listeners[2]).toMatchObject({ name: 'dc2', wouldUse: ['pg0'], routeUsed: 'primary' });
    expect(report.listeners[2]!.explanation!.reason).toContain('no replica in cluster batman');
    ctx.state = undefined;
    report = (await (await fetch(`${url}/topology`)).json()) as TopologyReport;
    expect(report.listeners[0]).toMatchObject({ wouldUse: [], note: 'cluster batman: topology not read yet' });
    expect(report.clusters[0]!.state).toBeUndefined();
  });

  it('lists recent events newest first, honours ?limit, and serves the status page and /status.json', async () => {
    const { url, events } = await start();
    events.reloaded('listeners added: dc2');
    events.fenced({ listener: 'primary', member: 'pg0', reason: 'demoted' });
    const body = (await (await fetch(`${url}/events`)).json()) as { events: Array<{ kind: string }> };
    expect(body.events.map((e) => e.kind)).toEqual(['fenced', 'reload']);
    const limited = (await (await fetch(`${url}/events?limit=1`)).json()) as { events: unknown[] };
    expect(limited.events).toHaveLength(1);
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('<title>patroni-router status</title>');
    expect(html).not.toMatch(/https?:\/\//);
    const status = (await (await fetch(`${url}/status.json`)).json()) as { topology: TopologyReport; events: unknown[] };
    expect(status.topology.listeners).toHaveLength(4);
    expect(status.events).toHaveLength(2);
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const { url } = await start();
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    const post = await fetch(`${url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('AdminServer with a token', () => {
  const TOKEN = 's3cret-token';

  it('needs the bearer token everywhere but /health and the page shell', async () => {
    const { url } = await start(TOKEN);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/`)).status).toBe(200);
    for (const path of ['/ready', '/metrics', '/topology', '/events', '/status.json']) {
      const anonymous = await fetch(`${url}${path}`);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
      expect((await fetch(`${url}${path}`, { headers: { Authorization: 'Bearer wrong' } })).status, path).toBe(401);
      expect((await fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status, path).toBe(200);
    }
  });

  it('compares tokens exactly', () => {
    expect(bearerTokenMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerTokenMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerTokenMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(bearerTokenMatches(`Basic ${TOKEN}`, TOKEN)).toBe(false);
    expect(bearerTokenMatches(TOKEN, TOKEN)).toBe(false);
    expect(bearerTokenMatches(undefined, TOKEN)).toBe(false);
  });
});

describe('AdminServer start', () => {
  it('rejects with a clear error when the port is taken', async () => {
    const { url } = await start();
    const port = Number(new URL(url).port);
    const ctx = context();
    const clash = new AdminServer({
      context: { ...ctx, config: () => ({ ...config(), admin: { enabled: true, host: '127.0.0.1', port } }) },
      metrics: new RouterMetrics({ defaultMetrics: false }),
      events: new EventLog(),
      logger: pino({ level: 'silent' }),
    });
    await expect(clash.start()).rejects.toThrow(`admin HTTP server cannot listen on 127.0.0.1:${port}`);
  });
});

describe('patroni-router status', () => {
  it('prints the members and listeners from a running admin API, with the token', async () => {
    const { url } = await start('tok');
    const lines: string[] = [];
    expect(await runStatus(['--admin', url, '--token', 'tok'], (l) => lines.push(l), {})).toBe(0);
    expect(lines.join('\n')).toMatch(/\| pg0 +\| 127\.0\.0\.1:5433 \| Leader +\| running/);
    expect(lines.join('\n')).toMatch(/\| primary +\| 127\.0\.0\.1:15000 +\| primary \| 3 \(1 held\) \| pg0 /);
    const denied: string[] = [];
    expect(await runStatus(['--admin', url], (l) => denied.push(l), {})).toBe(1);
    expect(denied).toEqual([`${url} needs the admin token: pass --token or set PATRONI_ROUTER_TOKEN`]);
    expect(await runStatus(['--admin', url], () => {}, { PATRONI_ROUTER_TOKEN: 'tok' })).toBe(0);
  });

  it('says so when nothing answers, and rejects unknown options', async () => {
    const { url } = await start();
    await servers.splice(0)[0]!.close();
    const lines: string[] = [];
    expect(await runStatus(['--admin', url], (l) => lines.push(l), {})).toBe(1);
    expect(lines[0]).toBe(`cannot reach the router's admin API at ${url}: ECONNREFUSED`);
    expect(await runStatus(['--bogus'], () => {}, {})).toBe(2);
  });
});
