/**
 * The session in-process: a real ProxyServer, hand-fed topology, and FakePostgres members
 * that speak the real messages. What the proxy does with each answer a member can give,
 * without a cluster (integration tests cover real servers).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ListenerConfig, TlsConfig } from '../../../src/config/types.js';
import { SCHEDULED_ACTION_LEAD_MS } from '../../../src/routing/scheduled-time.js';
import type { ClusterState } from '../../../src/topology/cluster-state.js';
import { RouterMetrics } from '../../../src/observe/metrics.js';
import { ProxyServer } from '../../../src/proxy/proxy-server.js';
import { BackendCode } from '../../../src/wire/message-codes.js';
import { parseError } from '../../../src/wire/parser.js';
import { cancelRequest, negotiationAnswer, passwordMessage, query, sslRequest, startupMessage } from '../../../src/wire/serializer.js';
import { emptyParams } from '../../../src/wire/startup-params.js';
import { waitFor } from '../../cluster/index.js';
import { createSelfSignedCert } from '../../cluster/tls-cert.js';
import { FakePostgres, type FakePostgresOptions } from '../../support/fake-postgres.js';
import { clusterStateOf, HandFedFeed } from '../../support/hand-fed-feed.js';
import { listenerConfig } from '../../support/listener-config.js';
import { captureLog, type LogCapture } from '../../support/log-capture.js';
import { RecordingEvents } from '../../support/recording-events.js';
import { framesOf } from '../../support/test-buffers.js';

const SCOPE = 'fake';

interface Rig {
  proxy: ProxyServer;
  feed: HandFedFeed;
  events: RecordingEvents;
  members: FakePostgres[];
  port(listener: string): number;
  /** Believe `primary` (a member index, or none) is writable, every member running. */
  believe(primary: number | undefined, over?: Partial<ClusterState>): void;
  log: LogCapture;
}

const rigs: Rig[] = [];
let tlsDir: string;
let serverTls: { cert: string; key: string };

beforeAll(async () => {
  tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-test-tls-'));
  const files = await createSelfSignedCert(tlsDir);
  serverTls = { cert: files.certFile, key: files.keyFile };
});

afterAll(() => fs.rmSync(tlsDir, { recursive: true, force: true }));

afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    await rig.proxy.close();
    for (const m of rig.members) await m.close();
  }
});

async function rig(opts: {
  members: FakePostgresOptions[];
  listeners: Array<Partial<ListenerConfig> & { name: string }>;
  tls?: TlsConfig;
  startupTimeoutMs?: number;
  authenticationTimeoutMs?: number;
  logLevel?: string;
}): Promise<Rig> {
  const members = await Promise.all(opts.members.map((o) => FakePostgres.start(o)));
  const feed = new HandFedFeed(SCOPE);
  const addresses = members.map((m, i) => ({ name: `m${i}`, host: '127.0.0.1', port: m.port }));
  const believe = (primary: number | undefined, over: Partial<ClusterState> = {}): void =>
    feed.push(clusterStateOf(SCOPE, addresses, primary === undefined ? undefined : `m${primary}`, over));
  believe(0);
  const events = new RecordingEvents();
  const log = captureLog(opts.logLevel ?? 'silent');
  const proxy = new ProxyServer({
    listeners: opts.listeners.map((l) => listenerConfig(l.name, SCOPE, l)),
    tls: opts.tls ?? { backend: { mode: 'disable' } },
    startupTimeoutMs: opts.startupTimeoutMs ?? 2_000,
    ...(opts.authenticationTimeoutMs !== undefined ? { authenticationTimeoutMs: opts.authenticationTimeoutMs } : {}),
    targetParameterPrefix: 'router',
    feeds: new Map([[SCOPE, feed]]),
    logger: log.logger,
    events,
  });
  await proxy.start();
  const port = (name: string): number => proxy.listeners().find((l) => l.name === name)!.port!;
  const r = { proxy, feed, events, members, port, believe, log };
  rigs.push(r);
  return r;
}

async function connected(port: number, extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'app', database: 'app', connectionTimeoutMillis: 5_000, ...extra });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function echo(client: pg.Client, text: string): Promise<string> {
  const result = await client.query<{ echo: string }>(text);
  return result.rows[0]!.echo;
}

/** What connecting says when it fails (pg rejects with the server's ErrorResponse). */
async function refusal(port: number, extra: Partial<pg.ClientConfig> = {}): Promise<{ code?: string; message: string }> {
  try {
    const client = await connected(port, extra);
    await client.end();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('connection unexpectedly succeeded');
}

describe('a member with ssl off', () => {
  it('takes sessions under tls.backend.mode prefer: the router falls back to plain after N', async () => {
    const r = await rig({ members: [{}], listeners: [{ name: 'primary' }], tls: { backend: { mode: 'prefer' } } });
    const client = await connected(r.port('primary'));
    expect(await echo(client, 'SELECT 1')).toBe('SELECT 1');
    await client.end();
    expect(r.members[0]!.sslRequests).toBe(1);
  });

  it('takes sessions when the router terminates TLS, with the client on TLS and the member plain', async () => {
    const r = await rig({ members: [{}], listeners: [{ name: 'primary' }], tls: { ...serverTls, backend: { mode: 'prefer' } } });
    const client = await connected(r.port('primary'), { ssl: { rejectUnauthorized: false } });
    expect(await echo(client, 'over tls')).toBe('over tls');
    await client.end();
  });

  it('is refused clearly under tls.backend.mode require', async () => {
    const r = await rig({ members: [{}], listeners: [{ name: 'primary', holdTimeoutMs: 300 }], tls: { backend: { mode: 'require' } } });
    const err = await refusal(r.port('primary'));
    expect(err.code).toBe('08006');
    expect(err.message).toMatch(/does not accept TLS \(backend tls mode require\)/);
  });
});

describe('placement', () => {
  it('holds a new session while there is no primary and goes on the moment one is known', async () => {
    const r = await rig({ members: [{}, {}], listeners: [{ name: 'primary', holdTimeoutMs: 5_000 }] });
    r.believe(undefined);
    const pending = connected(r.port('primary'));
    await waitFor('the session to be held', () => r.proxy.sessions()[0]!.held === 1, { intervalMs: 5 });
    r.believe(1);
    const client = await pending;
    await echo(client, 'SELECT 1');
    expect(r.members[1]!.startups).toHaveLength(1);
    expect(r.members[0]!.startups).toHaveLength(0);
    expect(r.events.of('holdEnded')).toMatchObject([{ listener: 'primary', outcome: 'proceeded' }]);
    await client.end();
  });

  it('refuses with 57P03 and the reason after hold_timeout', async () => {
    const r = await rig({ members: [{}], listeners: [{ name: 'primary', holdTimeoutMs: 200 }] });
    r.believe(undefined);
    const err = await refusal(r.port('primary'));
    expect(err.code).toBe('57P03');
    expect(err.message).toMatch(/^patroni-router listener "primary": no primary in cluster fake: .* \(waited 0\.[2-9] s\)$/);
    expect(r.events.of('refused')).toMatchObject([{ listener: 'primary', kind: 'hold_timeout', sqlstate: '57P03' }]);
  });

  it('gives way unseen when a member answers "not now" (57P03), then tries again within hold_timeout', async () => {
    const r = await rig({ members: [{ refuseStartup: { code: '57P03', message: 'the database system is starting up' } }], listeners: [{ name: 'primary', holdTimeoutMs: 5_000 }] });
    const pending = connected(r.port('primary'));
    await waitFor('a first refused attempt', () => r.members[0]!.startups.length >= 1, { intervalMs: 5 });
    r.members[0]!.configure({});
    const client = await pending;
    expect(await echo(client, 'up now')).toBe('up now');
    expect(r.members[0]!.startups.length).toBeGreaterThanOrEqual(2);
    await client.end();
  });

  it("counts a session waiting between attempts as held, on the metrics read from the proxy's own sessions", async () => {
    const r = await rig({ members: [{ refuseStartup: { code: '57P03', message: 'the database system is starting up' } }], listeners: [{ name: 'primary', holdTimeoutMs: 5_000 }] });
    const metrics = new RouterMetrics({ defaultMetrics: false, sessions: () => r.proxy.sessions() });
    const gauge = async (name: string, labels: Record<string, string>): Promise<number | undefined> =>
      (await metrics.registry.getSingleMetric(`patroni_router_${name}`)!.get()).values.find((v) => Object.entries(labels).every(([k, w]) => String(v.labels[k]) === w))?.value;
    const pending = connected(r.port('primary'));
    await waitFor('two refused attempts', () => r.members[0]!.startups.length >= 2, { intervalMs: 5 });
    await waitFor('the held gauge to say 1', async () => (await gauge('held_connections', { listener: 'primary' })) === 1, { intervalMs: 5 });
    r.members[0]!.configure({});
    const client = await pending;
    expect(await gauge('held_connections', { listener: 'primary' })).toBe(0);
    expect(await gauge('sessions', { listener: 'primary', member: 'm0' })).toBe(1);
    await client.end();
    await waitFor('the session to end', () => r.proxy.sessions()[0]!.total === 0, { intervalMs: 5 });
    expect(await gauge('sessions', { listener: 'primary', member: 'm0' })).toBeUndefined();
    expect(await gauge('sessions', { listener: 'primary', member: '' })).toBeUndefined();
  });

  it('tries the next replica when one refuses the startup (read routes only)', async () => {
    const r = await rig({
      members: [{}, { refuseStartup: { code: '53300', message: 'sorry, too many clients already' } }, {}],
      listeners: [{ name: 'replicas', route: 'replica' }],
    });
    for (let i = 0; i < 4; i++) {
      const client = await connected(r.port('replicas'));
      await echo(client, 'SELECT 1');
      await client.end();
    }
    expect(r.members[2]!.startups).toHaveLength(4);
  });

  it('skips, unseen, a write session landing on a server still in hot standby when the client has not spoken yet', async () => {
    const r = await rig({ members: [{ inHotStandby: true }], listeners: [{ name: 'primary', holdTimeoutMs: 5_000 }] });
    const pending = connected(r.port('primary'));
    await waitFor('an attempt on the standby', () => r.members[0]!.startups.length >= 1, { intervalMs: 5 });
    r.members[0]!.configure({});
    const client = await pending;
    await echo(client, 'promoted');
    await client.end();
    // The state named m0 the writable primary and a login said otherwise: the follower is asked to look again.
    expect(r.feed.doubts[0]).toEqual({ member: 'm0', why: 'a write login found it in hot standby' });
  });

  it('holds a write session logged in on a hot standby and logs it in again on the primary, when it learned a secret', async () => {
    // A cleartext password over TLS the router terminates: the one password the router keeps.
    const r = await rig({
      members: [{ inHotStandby: true, password: 'secret' }, { password: 'secret' }],
      listeners: [{ name: 'primary', links: true, holdTimeoutMs: 5_000 }],
      tls: { ...serverTls, backend: { mode: 'disable' } },
    });
    const pending = connected(r.port('primary'), { password: 'secret', ssl: { rejectUnauthorized: false } });
    await waitFor('the login on the standby', () => r.members[0]!.startups.length >= 1, { intervalMs: 5 });
    await waitFor('a second look at the standby (the session holds)', () => r.members[0]!.startups.length >= 2, { intervalMs: 5 });
    r.believe(1);
    const client = await pending;
    expect(await echo(client, 'SELECT 1 AS echo')).toBe('SELECT 1 AS echo');
    expect(r.members[1]!.queries).toContain('SELECT 1 AS echo');
    expect(r.members[0]!.queries).toEqual([]);
    expect(r.events.of('sessionMoved')).toMatchObject([{ listener: 'primary', from: 'm0', to: 'm1' }]);
    expect(r.feed.doubts.map((d) => d.member)).toContain('m0');
    expect(r.events.of('refused')).toEqual([]);
    await client.end();
  });

  it('keeps a query pipelined behind the password for the member that serves the session, never the standby that logged it in', async () => {
    const r = await rig({
      members: [{ inHotStandby: true, password: 'secret' }, { password: 'secret' }],
      listeners: [{ name: 'primary', links: true, holdTimeoutMs: 5_000 }],
      tls: { ...serverTls, backend: { mode: 'disable' } },
    });
    const plain = net.connect({ host: '127.0.0.1', port: r.port('primary') });
    // The end of the test resets this connection: a reset is no error of the test's.
    plain.on('error', () => {});
    await new Promise((resolve) => plain.once('connect', resolve));
    plain.write(sslRequest());
    const answer = await new Promise<Buffer>((resolve) => plain.once('data', resolve));
    expect(answer.toString('latin1')).toBe('S');
    const socket = tls.connect({ socket: plain, rejectUnauthorized: false });
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const first = received.length === 0;
      received = Buffer.concat([received, chunk]);
      // The password request: the password and the first query go in one write, as a pipelining client sends them.
      if (first) socket.write(Buffer.concat([passwordMessage('secret'), query('SELECT 1 AS echo')]));
    });
    const params = emptyParams();
    params['user'] = 'app';
    params['database'] = 'app';
    socket.write(startupMessage(3, 0, params));
    await waitFor('a second look at the standby (the session holds)', () => r.members[0]!.startups.length >= 2, { intervalMs: 5 });
    r.believe(1);
    await waitFor('the answer to the pipelined query', () => r.members[1]!.queries.includes('SELECT 1 AS echo') && received.includes('SELECT 1 AS echo'), { intervalMs: 5 });
    expect(r.members[0]!.queries).toEqual([]);
    socket.destroy();
  });

  it('after a login on a hot standby, says why once hold_timeout passes with no writable primary', async () => {
    const r = await rig({
      members: [{ inHotStandby: true, password: 'secret' }],
      listeners: [{ name: 'primary', links: true, holdTimeoutMs: 600 }],
      tls: { ...serverTls, backend: { mode: 'disable' } },
    });
    const err = await refusal(r.port('primary'), { password: 'secret', ssl: { rejectUnauthorized: false } });
    expect(err.code).toBe('08006');
    expect(err.message).toMatch(/could not connect to primary m0 .* of cluster fake: m0 is in hot standby \(read-only\) \(waited 0\.[0-9] s\)$/);
  });

  it('refuses a write session with 25006 on a hot standby once the client took part in authentication, when it has no secret to log in again', async () => {
    const r = await rig({ members: [{ inHotStandby: true, password: 'secret' }], listeners: [{ name: 'primary' }] });
    const err = await refusal(r.port('primary'), { password: 'secret' });
    expect(err.code).toBe('25006');
    expect(err.message).toMatch(/member m0 of cluster fake is in hot standby \(read-only\); refusing a write session/);
  });
});

describe('the client side', () => {
  it('answers a client that never sends its startup with 08P01 startup packet timeout', async () => {
    const r = await rig({ members: [{}], listeners: [{ name: 'primary' }], startupTimeoutMs: 150 });
    const bytes = await new Promise<Buffer>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: r.port('primary') });
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', () => resolve(Buffer.concat(chunks)));
    });
    expect(bytes.toString('latin1')).toContain('startup packet timeout');
    expect(r.events.of('refused')).toMatchObject([{ kind: 'startup_timeout', sqlstate: '08P01' }]);
  });

  // A client process that dies (pgbench on SIGTERM) closes its socket with no Terminate: on a
  // statement-routed session that FIN must end the session and free the member's backend.
  it.each([
    ['a byte-relayed session', { name: 'primary' }],
    [
      'a split session',
      {
        name: 'split',
        links: true,
        split: { consistency: 'eventual' as const, replicaRoute: 'replica' as const, safeFunctions: [], catalogRefreshMs: 60_000, replayPollMs: 50, replicaWaitMs: 0 },
      },
    ],
  ])('ends %s when the client closes its socket without a Terminate', async (_what, listener) => {
    const r = await rig({ members: [{}], listeners: [listener] });
    const client = await connected(r.port(listener.name));
    expect(await echo(client, 'SELECT 1 AS echo')).toBeDefined();
    expect(r.members[0]!.openConnections).toBe(1);
    const stream = (client as unknown as { connection: { stream: net.Socket } }).connection.stream;
    stream.end();
    await waitFor('the session to end and its backend to close', () => r.proxy.sessions().every((l) => l.total === 0) && r.members[0]!.openConnections === 0, {
      timeoutMs: 3_000,
      intervalMs: 20,
    });
    expect(r.events.of('sessionEnded')).toMatchObject([{ ending: 'client-closed' }]);
  });
});

describe('a switchover scheduled for later', () => {
  it('pauses a movable session when it falls due, with no new state, and the session goes on on the new primary', async () => {
    const r = await rig({ members: [{}, {}], listeners: [{ name: 'primary', moveSessions: true, links: true }], logLevel: 'debug' });
    const client = await connected(r.port('primary'));
    expect(await echo(client, 'SELECT 1')).toBe('SELECT 1');
    // Patroni writes the failover key with scheduled_at and sleeps until then: no key changes when it falls due.
    const scheduledAt = new Date(Date.now() + SCHEDULED_ACTION_LEAD_MS + 1_000).toISOString();
    r.believe(0, { switchoverPending: true, failover: { leader: 'm0', candidate: 'm1', scheduledAt } });
    expect(await echo(client, 'SELECT 2')).toBe('SELECT 2');
    expect(r.members[0]!.queries).toContain('SELECT 2');
    const paused = (): boolean => r.log.lines().some((l) => l['msg'] === 'switchover under way: new work waits at the next boundary');
    expect(paused()).toBe(false);
    await waitFor('the session to pause when the switchover falls due', paused, { timeoutMs: 5_000, intervalMs: 20 });
    const held = echo(client, 'SELECT 3');
    // The demoted member goes; the new primary takes the session and the held query.
    r.believe(1);
    expect(await held).toBe('SELECT 3');
    expect(r.members[0]!.queries).not.toContain('SELECT 3');
    expect(r.members[1]!.queries).toContain('SELECT 3');
    await client.end();
  });
});

describe('a session waiting for the next primary', () => {
  it('logs in ahead on the member the leader key names while it promotes, and goes on on that link once it is writable', async () => {
    const r = await rig({ members: [{}, { inHotStandby: true }], listeners: [{ name: 'primary', moveSessions: true, links: true }] });
    const client = await connected(r.port('primary'));
    expect(await echo(client, 'SELECT 1')).toBe('SELECT 1');
    // The leader key names m1, still in recovery: no writable primary, so the session leaves m0 and waits.
    r.believe(undefined, { leader: 'm1' });
    await waitFor('a login ahead on m1', () => r.members[1]!.startups.length === 1 && r.members[1]!.openConnections === 1, { timeoutMs: 3_000, intervalMs: 5 });
    const held = echo(client, 'SELECT 2');
    r.members[1]!.configure({});
    r.believe(1);
    expect(await held).toBe('SELECT 2');
    expect(r.members[1]!.queries).toContain('SELECT 2');
    // The same link: no second login, and it was asked whether m1 is out of recovery first.
    expect(r.members[1]!.startups.length).toBe(1);
    expect(r.members[1]!.queries.indexOf('SELECT pg_catalog.pg_is_in_recovery()')).toBeLessThan(r.members[1]!.queries.indexOf('SELECT 2'));
    expect(r.events.of('sessionMoved')).toMatchObject([{ listener: 'primary', from: 'm0', to: 'm1' }]);
    await client.end();
  });

  it('closes a link opened ahead when another member becomes the primary', async () => {
    const r = await rig({ members: [{}, { inHotStandby: true }, {}], listeners: [{ name: 'primary', moveSessions: true, links: true }] });
    const client = await connected(r.port('primary'));
    expect(await echo(client, 'SELECT 1')).toBe('SELECT 1');
    r.believe(undefined, { leader: 'm1' });
    await waitFor('a login ahead on m1', () => r.members[1]!.openConnections === 1, { timeoutMs: 3_000, intervalMs: 5 });
    const held = echo(client, 'SELECT 2');
    r.believe(2);
    expect(await held).toBe('SELECT 2');
    expect(r.members[2]!.queries).toContain('SELECT 2');
    await waitFor('the link ahead to m1 closed', () => r.members[1]!.openConnections === 0, { timeoutMs: 3_000, intervalMs: 5 });
    expect(r.members[1]!.queries).not.toContain('SELECT 2');
    await client.end();
  });
});

describe('sessions that cannot move', () => {
  it('count as not moved, with why, when a move_sessions listener loses their primary under them', async () => {
    // An md5 login and no auth_query: the router learns no secret, so the session stays on one member.
    const r = await rig({ members: [{ md5: true }, { md5: true }], listeners: [{ name: 'primary', moveSessions: true, links: true }] });
    const client = await connected(r.port('primary'), { password: 'any' });
    await echo(client, 'SELECT 1');
    const ended = new Promise<void>((resolve) => client.once('end', resolve));
    await r.members[0]!.close();
    await ended;
    await waitFor('the not-moved count', () => r.events.of('sessionNotMoved').length === 1, { intervalMs: 5 });
    expect(r.events.of('sessionNotMoved')).toEqual([{ listener: 'primary', member: 'm0', reason: 'no-secret' }]);
  });

  it('count as not moved, with why, when their primary goes away mid-query (a crash)', async () => {
    const r = await rig({ members: [{}, {}], listeners: [{ name: 'primary', moveSessions: true, links: true }] });
    const client = await connected(r.port('primary'));
    await echo(client, 'SELECT 1');
    const running = client.query('SELECT pg_sleep(60)').catch((e: unknown) => e as Error);
    await waitFor('the query to reach the member', () => r.members[0]!.queries.includes('SELECT pg_sleep(60)'), { intervalMs: 5 });
    await r.members[0]!.close();
    expect(await running).toBeInstanceOf(Error);
    await waitFor('the not-moved count', () => r.events.of('sessionNotMoved').length === 1, { intervalMs: 5 });
    expect(r.events.of('sessionNotMoved')).toEqual([{ listener: 'primary', member: 'm0', reason: 'query-running' }]);
  });

  it('are not counted when the client ends a session that could move', async () => {
    const r = await rig({ members: [{}, {}], listeners: [{ name: 'primary', moveSessions: true, links: true }] });
    for (let i = 0; i < 20; i++) {
      const client = await connected(r.port('primary'));
      await echo(client, 'SELECT 1');
      await client.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.events.of('sessionNotMoved')).toEqual([]);
  });

  it('are not counted when the client ends them, nor on a listener that does not move sessions', async () => {
    const r = await rig({ members: [{ md5: true }, { md5: true }], listeners: [{ name: 'primary', moveSessions: true, links: true }, { name: 'plain' }] });
    const leaving = await connected(r.port('primary'), { password: 'any' });
    await echo(leaving, 'SELECT 1');
    await leaving.end();
    const plain = await connected(r.port('plain'), { password: 'any' });
    await echo(plain, 'SELECT 1');
    const ended = new Promise<void>((resolve) => plain.once('end', resolve));
    await r.members[0]!.close();
    await ended;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.events.of('sessionNotMoved')).toEqual([]);
  });
});

describe('fencing and cancel', () => {
  it('closes an idle session on a demoted primary with 57P01 naming the new one', async () => {
    const r = await rig({ members: [{}, {}], listeners: [{ name: 'primary' }] });
    const client = await connected(r.port('primary'));
    await echo(client, 'SELECT 1');
    const ended = new Promise<Error>((resolve) => client.once('error', resolve));
    r.believe(1);
    const err = (await ended) as Error & { code?: string };
    expect(err.code).toBe('57P01');
    expect(err.message).toBe('terminating connection: m0 is no longer the primary of cluster fake (new primary: m1)');
    expect(r.events.of('fenced')).toMatchObject([{ listener: 'primary', member: 'm0' }]);
  });

  it('cancels the query a fenced session is running, then tells it why', async () => {
    const r = await rig({ members: [{}, {}], listeners: [{ name: 'primary' }] });
    const client = await connected(r.port('primary'));
    const running = client.query('SELECT pg_sleep(60)').catch((e: unknown) => e as Error & { code?: string });
    await waitFor('the query to reach the member', () => r.members[0]!.queries.includes('SELECT pg_sleep(60)'), { intervalMs: 5 });
    r.believe(1);
    await waitFor('the member to receive the cancel', () => r.members[0]!.cancels.length === 1, { intervalMs: 5 });
    const outcome = await running;
    expect(outcome).toMatchObject({ code: expect.stringMatching(/^(57014|57P01)$/) });
  });

  it("forwards a client's CancelRequest to the member that issued the key", async () => {
    const r = await rig({ members: [{}, {}], listeners: [{ name: 'primary' }] });
    const client = await connected(r.port('primary'));
    const running = client.query('SELECT pg_sleep(60)').catch((e: unknown) => e as Error & { code?: string });
    await waitFor('the query to reach the member', () => r.members[0]!.queries.length === 1, { intervalMs: 5 });
    const key = client as unknown as { processID: number; secretKey: number };
    const secret = Buffer.alloc(4);
    secret.writeInt32BE(key.secretKey);
    const cancel = cancelRequest(key.processID, secret);
    net.connect({ host: '127.0.0.1', port: r.port('primary') }, function (this: net.Socket) {
      this.end(cancel);
    });
    expect(await running).toMatchObject({ code: '57014' });
    expect(r.events.of('cancel')).toMatchObject([{ outcome: 'forwarded' }]);
    expect(r.members[1]!.cancels).toHaveLength(0);
    // The client holds the router's own key; the member got its own.
    expect(r.members[0]!.cancels[0]!.processId).not.toBe(key.processID);
    await client.end();
  });

  it('sends a CancelRequest with a key the router did not issue nowhere while no TLS pass-through session is open', async () => {
    const r = await rig({ members: [{}, {}], listeners: [{ name: 'primary' }] });
    for (let i = 0; i < 50; i++) {
      await new Promise<void>((resolve) => {
        const socket = net.connect({ host: '127.0.0.1', port: r.port('primary') }, () => socket.end(cancelRequest(1000 + i, Buffer.from([1, 2, 3, 4]))));
        socket.on('close', () => resolve());
      });
    }
    await waitFor('every cancel to be handled', () => r.events.of('cancel').length === 50, { intervalMs: 5 });
    expect(new Set(r.events.of('cancel').map((e) => e['outcome']))).toEqual(new Set(['unknown']));
    expect(r.members.flatMap((m) => m.cancels)).toEqual([]);
  });
});

/** A raw client: what it sends, and every byte it receives until the router closes. */
function rawClient(port: number): { socket: net.Socket; received: () => Buffer; closed: Promise<void> } {
  const socket = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

const plainStartup = (): Buffer => startupMessage(3, 0, Object.assign(emptyParams(), { user: 'app', database: 'app' }));

describe('TLS passed through (no router certificate)', () => {
  it("relays the member's S, and closes a client that then stays silent past startup_timeout, freeing the member's backend", async () => {
    const r = await rig({ members: [{ acceptSsl: true }], listeners: [{ name: 'primary' }], startupTimeoutMs: 300 });
    const client = rawClient(r.port('primary'));
    client.socket.write(sslRequest());
    await waitFor('the S', () => client.received().length === 1, { intervalMs: 5 });
    expect(client.received()).toEqual(negotiationAnswer(true));
    await waitFor('the member to see the connection', () => r.members[0]!.openConnections === 1, { intervalMs: 5 });
    await client.closed;
    await waitFor("the member's connection to close", () => r.members[0]!.openConnections === 0, { intervalMs: 5 });
    expect(r.events.of('refused')).toMatchObject([{ kind: 'startup_timeout' }]);
  });

  it('passes the TLS bytes untouched once the client sends them', async () => {
    const r = await rig({ members: [{ acceptSsl: true }], listeners: [{ name: 'primary' }], startupTimeoutMs: 300 });
    const client = rawClient(r.port('primary'));
    client.socket.write(sslRequest());
    await waitFor('the S', () => client.received().length === 1, { intervalMs: 5 });
    const hello = Buffer.from([0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5]);
    client.socket.write(hello);
    await waitFor('the member to get the handshake bytes', () => Buffer.concat(r.members[0]!.afterSsl).equals(hello), { intervalMs: 5 });
    client.socket.destroy();
  });

  it('against a member that answers N, tells the client N and reads its plain startup itself', async () => {
    const r = await rig({ members: [{}], listeners: [{ name: 'primary' }] });
    const client = rawClient(r.port('primary'));
    client.socket.write(sslRequest());
    await waitFor('the N', () => client.received().length === 1, { intervalMs: 5 });
    expect(client.received()).toEqual(negotiationAnswer(false));
    client.socket.write(plainStartup());
    await waitFor('ReadyForQuery', () => framesOf(client.received().subarray(1)).some((f) => f.code === BackendCode.ReadyForQuery), { intervalMs: 5 });
    expect(r.members[0]!.startups).toHaveLength(1);
    client.socket.destroy();
  });

  it('refuses an SSLRequest client readably: N first, then the FATAL after its plain startup (libpq sslmode=prefer)', async () => {
    const r = await rig({ members: [{}], listeners: [{ name: 'primary', holdTimeoutMs: 200 }] });
    r.believe(undefined);
    const client = rawClient(r.port('primary'));
    client.socket.write(sslRequest());
    await waitFor('the N', () => client.received().length === 1, { intervalMs: 5 });
    client.socket.write(plainStartup());
    await client.closed;
    const [error] = framesOf(client.received().subarray(1));
    expect(error?.code).toBe(BackendCode.ErrorResponse);
    expect(parseError(error!.body)).toMatchObject({ code: '57P03', severity: 'FATAL' });
  });
});

describe('bounded waits on the member side', () => {
  it('gives way when a member accepts the connection and never answers the startup (connect_timeout), then says why', async () => {
    const r = await rig({ members: [{ silent: true }], listeners: [{ name: 'primary', connectTimeoutMs: 150, holdTimeoutMs: 400 }] });
    const err = await refusal(r.port('primary'));
    expect(err.code).toBe('08006');
    expect(err.message).toMatch(/m0 did not answer the startup within 150 ms \(waited 0\.[4-9] s\)$/);
  });

  it('ends an authentication that outlasts authentication_timeout with 57014, as PostgreSQL does', async () => {
    const r = await rig({ members: [{ password: 'secret' }], listeners: [{ name: 'primary' }], authenticationTimeoutMs: 200 });
    const client = rawClient(r.port('primary'));
    client.socket.write(plainStartup());
    await client.closed;
    const frames = framesOf(client.received());
    expect(frames[0]?.code).toBe(BackendCode.Authentication);
    const error = frames.find((f) => f.code === BackendCode.ErrorResponse);
    expect(parseError(error!.body)).toMatchObject({ code: '57014', message: expect.stringMatching(/canceling authentication due to timeout \(member m0, 0\.2 s\)$/) });
  });
});

describe('connection limits: a full member sees no storm, a client waits in line or hears 53300 at once', () => {
  it("answers a member's 53300 at once with its own words, after one attempt", async () => {
    const r = await rig({ members: [{ refuseStartup: { code: '53300', message: 'sorry, too many clients already' } }], listeners: [{ name: 'primary', holdTimeoutMs: 5_000 }] });
    const started = Date.now();
    const err = await refusal(r.port('primary'));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err).toMatchObject({ code: '53300', message: 'sorry, too many clients already' });
    expect(r.members[0]!.startups).toHaveLength(1);
    expect(r.events.of('refused')).toMatchObject([{ kind: 'member_full', sqlstate: '53300' }]);
  });

  it('tries the other replicas first, and only when every one is full answers 53300', async () => {
    const full = { refuseStartup: { code: '53300', message: 'too many connections for role "app"' } };
    const r = await rig({ members: [{}, full, full], listeners: [{ name: 'replicas', route: 'replica', holdTimeoutMs: 5_000 }] });
    const err = await refusal(r.port('replicas'));
    expect(err).toMatchObject({ code: '53300', message: 'too many connections for role "app"' });
    expect(r.members[1]!.startups).toHaveLength(1);
    expect(r.members[2]!.startups).toHaveLength(1);
  });

  it('queues sessions beyond maxconn per member and lets the next in when one ends; past queue_timeout, 53300', async () => {
    const r = await rig({ members: [{}], listeners: [{ name: 'primary', maxconn: 1, queueTimeoutMs: 300 }] });
    const first = await connected(r.port('primary'));
    await echo(first, 'one');
    const second = connected(r.port('primary'));
    await waitFor('the second session to wait in line', () => r.proxy.sessions()[0]!.held === 1, { intervalMs: 5 });
    expect(r.members[0]!.startups).toHaveLength(1);
    await first.end();
    const client = await second;
    expect(await echo(client, 'two')).toBe('two');
    const err = await refusal(r.port('primary'));
    expect(err.code).toBe('53300');
    expect(err.message).toMatch(/^patroni-router listener "primary": m0 has 1 sessions \(maxconn\) \(waited 0\.[3-9] s\)$/);
    expect(r.members[0]!.startups).toHaveLength(2);
    await client.end();
  });

  it('refuses clients beyond max_clients with 53300, also one that starts with an SSLRequest', async () => {
    const r = await rig({ members: [{}], listeners: [{ name: 'primary', maxClients: 1 }] });
    const first = await connected(r.port('primary'));
    const err = await refusal(r.port('primary'));
    expect(err).toMatchObject({ code: '53300', message: 'patroni-router listener "primary": sorry, too many clients already (max_clients 1)' });
    const tls = rawClient(r.port('primary'));
    tls.socket.write(sslRequest());
    await waitFor('the N', () => tls.received().length === 1, { intervalMs: 5 });
    tls.socket.write(plainStartup());
    await tls.closed;
    expect(parseError(framesOf(tls.received().subarray(1))[0]!.body)).toMatchObject({ code: '53300' });
    expect(r.members[0]!.startups).toHaveLength(1);
    await first.end();
  });
});
