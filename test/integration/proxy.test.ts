import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { credentials, freePort, startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import { createSelfSignedCert } from '../cluster/tls-cert.js';
import type { TlsConfig } from '../../src/config/types.js';
import type { ClusterState } from '../../src/topology/cluster-state.js';
import { clusterStateOf, HandFedFeed } from '../support/hand-fed-feed.js';
import { listenerConfig } from '../support/listener-config.js';
import { RecordingEvents } from '../support/recording-events.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { cancelRequest, startupMessage } from '../../src/wire/serializer.js';
import { emptyParams } from '../../src/wire/startup-params.js';

// The proxy against a real Patroni cluster, with a hand-fed topology so each test decides what
// the router believes (including deliberately wrong beliefs) independently of etcd.

/** A snapshot of the harness cluster: `primary` is the member the router believes writable (none = election). */
function stateOf(cluster: PatroniCluster, primary: string | undefined): ClusterState {
  const members = cluster.members.map((m) => ({ name: m.name, host: m.host, port: m.port, apiUrl: m.restUrl }));
  return clusterStateOf(cluster.scope, members, primary, { namespace: cluster.namespace });
}

const listener = listenerConfig;

const logger = pino({ level: process.env['PROXY_TEST_LOG'] ?? 'silent' });
const plainTls: TlsConfig = { backend: { mode: 'disable' } };

function portOf(proxy: ProxyServer, name: string): number {
  const port = proxy.listeners().find((l) => l.name === name)?.port;
  if (port === undefined) throw new Error(`no listener ${name}`);
  return port;
}

async function connect(port: number, opts: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', ...opts });
  await client.connect();
  return client;
}

/** Runs one query on a fresh connection and closes it. */
async function once<T = Record<string, unknown>>(port: number, sql: string, opts: Partial<pg.ClientConfig> = {}): Promise<T> {
  const client = await connect(port, opts);
  try {
    return (await client.query(sql)).rows[0] as T;
  } finally {
    await client.end();
  }
}

/** What a failed connection attempt says (pg rejects with the server's ErrorResponse). */
async function connectError(port: number, opts: Partial<pg.ClientConfig> = {}): Promise<{ code?: string; message: string }> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', ...opts });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  await client.end();
  throw new Error('connection unexpectedly succeeded');
}

function runPsql(port: number, sql: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('psql', ['-XAtq', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', sql], {
      env: { ...process.env, PGCONNECT_TIMEOUT: '10', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() }));
  });
}

/** Raw bytes to the proxy; resolves with everything received until the proxy closes. */
function rawExchange(port: number, send: (socket: net.Socket) => void, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`proxy did not close within ${timeoutMs} ms; got ${Buffer.concat(chunks).toString('latin1')}`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.on('connect', () => send(socket));
  });
}

/** Reads the SQLSTATE and message of an ErrorResponse at the start of `bytes`. */
function errorOf(bytes: Buffer): { code?: string; message?: string } {
  if (bytes[0] !== 0x45) return {};
  const fields: Record<string, string> = {};
  let offset = 5;
  while (offset < bytes.length && bytes[offset] !== 0) {
    const end = bytes.indexOf(0, offset);
    fields[String.fromCharCode(bytes[offset]!)] = bytes.toString('utf8', offset + 1, end);
    offset = end + 1;
  }
  return { code: fields['C'], message: fields['M'] };
}

describe('the Postgres wire-protocol proxy against a real Patroni cluster', () => {
  let cluster: PatroniCluster;
  let feed: HandFedFeed;
  let proxy: ProxyServer;
  const events = new RecordingEvents();
  let leader: string;
  let replicas: string[];
  const portByMember = new Map<string, number>();
  const memberByPort = new Map<number, string>();

  beforeAll(async () => {
    cluster = await startCluster({ members: 3 });
    leader = await cluster.waitForHealthy();
    replicas = cluster.members.map((m) => m.name).filter((n) => n !== leader);
    for (const m of cluster.members) {
      portByMember.set(m.name, m.port);
      memberByPort.set(m.port, m.name);
    }
    feed = new HandFedFeed(cluster.scope);
    feed.push(stateOf(cluster, leader));
    proxy = new ProxyServer({
      listeners: [
        listener('primary', cluster.scope, {}),
        listener('primary-short', cluster.scope, { holdTimeoutMs: 500, fence: false }),
        listener('primary-unfenced', cluster.scope, { holdTimeoutMs: 1_000, fence: false }),
        listener('replicas', cluster.scope, { route: 'replica', fence: true }),
      ],
      tls: plainTls,
      startupTimeoutMs: 1_500,
      targetParameterPrefix: 'router',
      feeds: new Map([[cluster.scope, feed]]),
      logger,
      events,
    });
    await proxy.start();
  });

  afterAll(async () => {
    await proxy?.close();
    await cluster?.stop();
  });

  beforeEach(() => {
    feed.push(stateOf(cluster, leader));
    events.clear();
  });

  it('sends writes to the leader (node-postgres and psql)', async () => {
    const port = portOf(proxy, 'primary');
    const row = await once<{ port: number; ro: boolean }>(port, 'SELECT inet_server_port() AS port, pg_is_in_recovery() AS ro');
    expect(memberByPort.get(row.port)).toBe(leader);
    expect(row.ro).toBe(false);
    const psql = await runPsql(port, 'CREATE TABLE IF NOT EXISTS proxy_probe(x int); INSERT INTO proxy_probe VALUES (1); SELECT inet_server_port()');
    expect(psql.stderr).toBe('');
    expect(memberByPort.get(Number(psql.stdout))).toBe(leader);
    await waitFor('both sessions to be reported ended', () => events.of('sessionEnded').length === 2, { timeoutMs: 5_000, intervalMs: 20 });
    for (const ended of events.of('sessionEnded')) {
      expect(ended).toMatchObject({ listener: 'primary', member: leader, ending: 'client-closed' });
      expect(ended['bytesIn']).toBeGreaterThan(0);
      expect(ended['bytesOut']).toBeGreaterThan(0);
    }
    expect(events.of('connectionAccepted')).toHaveLength(2);
    expect(events.of('sessionStarted')).toHaveLength(2);
  });

  it('tries the next replica when one refuses the connection (read routes only)', async () => {
    const broken = stateOf(cluster, leader);
    const dead = await freePort();
    const members = broken.members.map((m) => (m.name === replicas[0] ? { ...m, port: dead } : m));
    feed.push({ ...broken, members, generation: broken.generation + 1 });
    for (let i = 0; i < 4; i++) {
      const row = await once<{ port: number }>(portOf(proxy, 'replicas'), 'SELECT inet_server_port() AS port');
      expect(memberByPort.get(row.port)).toBe(replicas[1]);
    }
    const primaryBroken = broken.members.map((m) => (m.name === leader ? { ...m, port: dead } : m));
    feed.push({ ...broken, members: primaryBroken, generation: broken.generation + 2 });
    const err = await connectError(portOf(proxy, 'primary-short'));
    expect(err.code).toBe('08006');
    expect(err.message).toMatch(
      new RegExp(
        `^patroni-router listener "primary-short": could not connect to primary ${leader} \\(127.0.0.1:${dead}\\) of cluster ${cluster.scope}: connect to 127.0.0.1:${dead} failed: ECONNREFUSED \\(waited 0\\.[0-9] s\\)$`,
      ),
    );
  });

  it('spreads reads round-robin across both replicas', async () => {
    const port = portOf(proxy, 'replicas');
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const row = await once<{ port: number; ro: boolean }>(port, 'SELECT inet_server_port() AS port, pg_is_in_recovery() AS ro');
      expect(row.ro).toBe(true);
      seen.push(memberByPort.get(row.port)!);
    }
    expect(new Set(seen)).toEqual(new Set(replicas));
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
  });

  it('relays md5 and SCRAM authentication untouched, and refuses a wrong password with the server error', async () => {
    const port = portOf(proxy, 'primary');
    for (const who of [credentials.md5, credentials.scram]) {
      const row = await once<{ u: string }>(port, 'SELECT current_user AS u', { user: who.user, password: who.password });
      expect(row.u).toBe(who.user);
    }
    const wrong = await connectError(port, { user: credentials.scram.user, password: 'nope' });
    expect(wrong.code).toBe('28P01');
  });

  it('lets a client pick a route within the allowed targets, and refuses others clearly', async () => {
    const port = portOf(proxy, 'primary');
    const row = await once<{ ro: boolean }>(port, 'SELECT pg_is_in_recovery() AS ro', { options: '-c router.target=replica' });
    expect(row.ro).toBe(true);
    const refused = await connectError(port, { options: '-c router.target=sync' });
    expect(refused.code).toBe('08004');
    expect(refused.message).toContain('listener "primary"');
    const unknown = await connectError(port, { options: '-c router.target=nonsense' });
    expect(unknown.code).toBe('42704');
  });

  it('holds a connection while there is no primary and proceeds the moment one appears', async () => {
    feed.push(stateOf(cluster, undefined));
    const started = Date.now();
    const pending = once<{ ro: boolean }>(portOf(proxy, 'primary'), 'SELECT pg_is_in_recovery() AS ro');
    await waitFor('the connection to be held', () => proxy.sessions().find((s) => s.listener === 'primary')?.held === 1, { timeoutMs: 5_000, intervalMs: 20 });
    const pushedAt = Date.now();
    feed.push(stateOf(cluster, leader));
    const row = await pending;
    expect(row.ro).toBe(false);
    expect(pushedAt - started).toBeGreaterThan(0);
    expect(Date.now() - pushedAt).toBeLessThan(1_000);
  });

  it('refuses with FATAL 57P03 naming listener, cluster and reason when the hold times out', async () => {
    feed.push(stateOf(cluster, undefined));
    const err = await connectError(portOf(proxy, 'primary-short'));
    expect(err.code).toBe('57P03');
    expect(err.message).toBe(`patroni-router listener "primary-short": no primary in cluster ${cluster.scope}: leader election in progress (waited 0.5 s)`);
    expect(events.of('holdEnded')).toEqual([{ listener: 'primary-short', waitedMs: expect.any(Number), outcome: 'timeout' }]);
    expect(events.of('refused')).toEqual([{ listener: 'primary-short', kind: 'hold_timeout', reason: err.message, sqlstate: '57P03' }]);
  });

  it('drops a held client that goes away without leaking it', async () => {
    feed.push(stateOf(cluster, undefined));
    const socket = net.connect({ host: '127.0.0.1', port: portOf(proxy, 'primary') });
    socket.on('error', () => {});
    const params = emptyParams();
    params['user'] = 'postgres';
    socket.write(startupMessage(3, 0, params));
    await waitFor('the connection to be held', () => proxy.sessions().find((s) => s.listener === 'primary')?.held === 1, { timeoutMs: 5_000, intervalMs: 20 });
    socket.destroy();
    await waitFor('the held connection to be gone', () => proxy.sessions().find((s) => s.listener === 'primary')?.total === 0, { timeoutMs: 5_000, intervalMs: 20 });
  });

  it('fences an idle write session with FATAL 57P01 within 100 ms of the primary changing', async () => {
    const client = await connect(portOf(proxy, 'primary'));
    await client.query('SELECT 1');
    const errored = new Promise<{ err: { code?: string; message: string }; at: number }>((resolve) =>
      client.on('error', (err) => resolve({ err: err as { code?: string; message: string }, at: Date.now() })),
    );
    const newPrimary = replicas[0]!;
    const pushedAt = Date.now();
    feed.push(stateOf(cluster, newPrimary));
    const { err, at } = await errored;
    expect(at - pushedAt).toBeLessThan(100);
    expect(events.of('fenced')).toEqual([{ listener: 'primary', member: leader, reason: expect.stringContaining('no longer the primary') }]);
    expect(err.code).toBe('57P01');
    expect(err.message).toBe(`terminating connection: ${leader} is no longer the primary of cluster ${cluster.scope} (new primary: ${newPrimary})`);
    await client.end().catch(() => {});
  });

  it('fences a session waiting on its query with FATAL 57P01 and cancels that query on the member', async () => {
    const client = await connect(portOf(proxy, 'primary'));
    client.on('error', () => {});
    const query = client.query('SELECT pg_sleep(20)');
    const running = "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(20)' AND state = 'active'";
    await waitFor('pg_sleep to run on the leader', async () => (await cluster.sql(leader, running)) === '1', { timeoutMs: 10_000, intervalMs: 50 });
    const pushedAt = Date.now();
    feed.push(stateOf(cluster, replicas[0]!));
    const err = (await query.then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string; message: string } | undefined;
    expect(Date.now() - pushedAt).toBeLessThan(100);
    expect(err?.code).toBe('57P01');
    expect(err?.message).toContain(`${leader} is no longer the primary`);
    await waitFor('the fenced query to be cancelled on the leader', async () => (await cluster.sql(leader, running)) === '0', { timeoutMs: 5_000, intervalMs: 50 });
    await client.end().catch(() => {});
  });

  it('fences a session in the middle of the backend stream by closing it (a message there would corrupt it)', async () => {
    feed.push(stateOf(cluster, leader));
    const client = await connect(portOf(proxy, 'primary'));
    client.on('error', () => {});
    const sql = "SELECT CASE WHEN g < 5000 THEN repeat('x', 100) ELSE pg_sleep(20)::text END FROM generate_series(1, 5000) g";
    const query = client.query(new pg.Query(sql));
    let rows = 0;
    query.on('row', () => rows++);
    const ended = new Promise<Error | undefined>((resolve) => {
      query.on('error', resolve);
      query.on('end', () => resolve(undefined));
    });
    await waitFor('rows to stream before the sleep', () => rows > 0, { timeoutMs: 10_000, intervalMs: 10 });
    const pushedAt = Date.now();
    feed.push(stateOf(cluster, replicas[0]!));
    const err = await ended;
    expect(Date.now() - pushedAt).toBeLessThan(100);
    expect(err?.message).toMatch(/terminated|ended|closed/i);
    expect((err as { code?: string } | undefined)?.code).toBeUndefined();
    await client.end().catch(() => {});
  });

  it('never hands a write session to a member in hot standby (wrong topology): it waits, then says why', async () => {
    const replica = replicas[0]!;
    feed.push(stateOf(cluster, replica));
    // Password-less: the router kept the startup back, gave way unseen and retried until hold_timeout.
    const trusted = await connectError(portOf(proxy, 'primary-unfenced'));
    expect(trusted.code).toBe('08006');
    expect(trusted.message).toMatch(
      new RegExp(
        `^patroni-router listener "primary-unfenced": could not connect to primary ${replica} .* of cluster ${cluster.scope}: ${replica} is in hot standby \\(read-only\\) \\(waited 1(\\.[0-9])? s\\)$`,
      ),
    );
    // With a password the client took part in authentication, so it is told at once.
    const withPassword = await connectError(portOf(proxy, 'primary-unfenced'), { user: credentials.scram.user, password: credentials.scram.password });
    expect(withPassword.code).toBe('25006');
    expect(withPassword.message).toBe(
      `patroni-router listener "primary-unfenced": member ${replica} of cluster ${cluster.scope} is in hot standby (read-only); refusing a write session`,
    );
  });

  it('forwards a cancel to the right replica backend, 20 times out of 20', async () => {
    const port = portOf(proxy, 'replicas');
    for (let i = 0; i < 20; i++) {
      const client = await connect(port);
      const where = (await client.query('SELECT inet_server_port() AS p, pg_backend_pid() AS pid')).rows[0] as { p: number; pid: number };
      const member = memberByPort.get(where.p)!;
      const backendPid = where.pid;
      // The client holds the router's own cancel key, not its backend's.
      const clientKey = client as unknown as { processID: number; secretKey: number };
      expect(clientKey.processID).not.toBe(backendPid);
      const sleep = `SELECT pg_sleep(30) /* ${i} */`;
      const query = client.query(sleep);
      const monitor = await connect(portByMember.get(member)!);
      await waitFor(
        'the query to run',
        async () => (await monitor.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND state = $2', [backendPid, 'active'])).rows[0].n === 1,
        { timeoutMs: 10_000, intervalMs: 20 },
      );
      await monitor.end();
      const secret = Buffer.alloc(4);
      secret.writeInt32BE(clientKey.secretKey, 0);
      const sentAt = Date.now();
      await rawExchange(port, (s) => s.end(cancelRequest(clientKey.processID, secret)));
      await expect(query).rejects.toMatchObject({ code: '57014' });
      expect(Date.now() - sentAt).toBeLessThan(2_000);
      await client.end();
    }
    expect(proxy.cancelKeyCount()).toBe(0);
    expect(events.of('cancel')).toHaveLength(20);
    expect(events.of('cancel').every((c) => c['outcome'] === 'forwarded')).toBe(true);
  });

  it('passes TLS through when it holds no certificate (sslmode=require reaches the backend)', async () => {
    const port = portOf(proxy, 'primary');
    const out = await runPsql(port, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', { PGSSLMODE: 'require' });
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe('t');
    const row = await once<{ ssl: boolean }>(port, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', { ssl: { rejectUnauthorized: false } });
    expect(row.ssl).toBe(true);
  });

  it('broadcasts a cancel for a TLS pass-through session to the listener candidates (psql Ctrl-C)', async () => {
    const port = portOf(proxy, 'replicas');
    const child = spawn('psql', ['-XAtq', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', 'SELECT pg_sleep(30) /* tls-cancel */'], {
      env: { ...process.env, PGSSLMODE: 'require' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const running = async (): Promise<boolean> => {
      for (const r of replicas) {
        const n = await cluster.sql(
          r,
          "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.query LIKE '%tls-cancel%' AND a.state = 'active' AND s.ssl AND a.pid <> pg_backend_pid()",
        );
        if (n === '1') return true;
      }
      return false;
    };
    await waitFor('the TLS session to run pg_sleep on a replica', running, { timeoutMs: 10_000, intervalMs: 50 });
    const sentAt = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    expect(stderr).toContain('canceling statement due to user request');
    expect(code).not.toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(3_000);
  });

  it('applies backpressure: a client that stops reading stalls the backend instead of filling the router', async () => {
    const params = emptyParams();
    params['user'] = 'postgres';
    const socket = net.connect({ host: '127.0.0.1', port: portOf(proxy, 'primary') });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => {
      let seen = Buffer.alloc(0);
      socket.on('connect', () => socket.write(startupMessage(3, 0, params)));
      const onData = (c: Buffer): void => {
        seen = Buffer.concat([seen, c]);
        if (seen.length >= 6 && seen[seen.length - 6] === 0x5a) {
          socket.removeListener('data', onData);
          socket.pause();
          resolve();
        }
      };
      socket.on('data', onData);
    });
    const sql = "SELECT repeat('x', 1000000) FROM generate_series(1, 500) /* backpressure */\0";
    const query = Buffer.alloc(5 + Buffer.byteLength(sql));
    query.write('Q', 0, 'latin1');
    query.writeInt32BE(4 + Buffer.byteLength(sql), 1);
    query.write(sql, 5, 'utf8');
    socket.write(query);
    await waitFor(
      'the backend to block writing to the router (ClientWrite)',
      async () => (await cluster.sql(leader, "SELECT wait_event FROM pg_stat_activity WHERE query LIKE '%backpressure%' AND pid <> pg_backend_pid()")) === 'ClientWrite',
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    socket.destroy();
    await waitFor('the stalled session to be gone', () => proxy.sessions().every((l) => l.total === 0), { timeoutMs: 10_000, intervalMs: 50 });
  });

  describe('robustness against bad input', () => {
    it('answers random bytes with a FATAL ErrorResponse (or a close) and keeps serving', async () => {
      const port = portOf(proxy, 'primary');
      const replies = await Promise.all(
        Array.from({ length: 100 }, () => {
          const junk = Buffer.from(Array.from({ length: 64 }, () => Math.floor(Math.random() * 256)));
          return rawExchange(port, (s) => s.write(junk));
        }),
      );
      for (const reply of replies) {
        // A first byte of 0x16 looks like TLS and is passed through to postgres, which answers itself.
        if (reply.length > 0) expect(String.fromCharCode(reply[0]!)).toBe('E');
      }
      const junk = Buffer.alloc(64, 0x7f);
      expect(errorOf(await rawExchange(port, (s) => s.write(junk)))).toEqual({ code: '08P01', message: 'invalid length of startup packet' });
      expect((await once<{ one: number }>(port, 'SELECT 1 AS one')).one).toBe(1);
      await waitFor('no sessions left', () => proxy.sessions().every((l) => l.total === 0), { timeoutMs: 10_000, intervalMs: 50 });
    });

    it('refuses a 2^31 length without allocating it', async () => {
      const bytes = Buffer.from([0x80, 0, 0, 0, 0, 3, 0, 0]);
      const reply = await rawExchange(portOf(proxy, 'primary'), (s) => s.write(bytes));
      expect(errorOf(reply).code).toBe('08P01');
    });

    it('gives a trickled startup FATAL 08P01 "startup packet timeout"', async () => {
      const params = emptyParams();
      params['user'] = 'postgres';
      const startup = startupMessage(3, 0, params);
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const reply = await rawExchange(portOf(proxy, 'primary'), (s) => {
        let i = 0;
        timer = setInterval(() => {
          if (i < startup.length && !s.destroyed) s.write(startup.subarray(i, ++i));
        }, 300);
      });
      clearInterval(timer);
      expect(errorOf(reply)).toEqual({ code: '08P01', message: 'startup packet timeout' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    });

    it('survives 500 connections dropped mid-startup, then serves a query and leaks nothing', async () => {
      const port = portOf(proxy, 'primary');
      const params = emptyParams();
      params['user'] = 'postgres';
      const startup = startupMessage(3, 0, params);
      const drops: Array<Promise<void>> = [];
      for (let i = 0; i < 500; i++) {
        drops.push(
          new Promise<void>((resolve) => {
            const s = net.connect({ host: '127.0.0.1', port });
            s.on('error', () => resolve());
            s.on('close', () => resolve());
            // Cut at varying points: inside the length, inside the params, right after the packet.
            s.on('connect', () => {
              s.write(startup.subarray(0, i % (startup.length + 1)));
              setImmediate(() => s.destroy());
            });
          }),
        );
      }
      await Promise.all(drops);
      expect((await once<{ one: number }>(port, 'SELECT 1 AS one')).one).toBe(1);
      await waitFor('every dropped session to be gone', () => proxy.sessions().every((s) => s.total === 0 && Object.keys(s.byMember).length === 0), {
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      expect(proxy.cancelKeyCount()).toBe(0);
    });
  });

  describe('protocol negotiation', () => {
    it('answers GSSENCRequest with N and then serves the startup that follows', async () => {
      const params = emptyParams();
      params['user'] = 'postgres';
      const gss = Buffer.alloc(8);
      gss.writeInt32BE(8, 0);
      gss.writeInt32BE(80877104, 4);
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: portOf(proxy, 'primary') }, () => socket.write(gss));
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => {
          chunks.push(c);
          const all = Buffer.concat(chunks);
          if (all.length === 1) socket.write(startupMessage(3, 0, params));
          if (all.length > 7 && all[all.length - 6] === 0x5a) {
            resolve(all);
            socket.destroy();
          }
        });
        socket.on('error', reject);
      });
      expect(reply.subarray(0, 2).toString('latin1')).toBe('NR');
    });

    it('relays a newer protocol minor version so the backend answers NegotiateProtocolVersion', async () => {
      const params = emptyParams();
      params['user'] = 'postgres';
      params['_pq_.unknown_option'] = 'x';
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: portOf(proxy, 'primary') }, () => socket.write(startupMessage(3, 9, params)));
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => {
          chunks.push(c);
          const all = Buffer.concat(chunks);
          if (all.length > 7 && all[all.length - 6] === 0x5a) {
            resolve(all);
            socket.destroy();
          }
        });
        socket.on('error', reject);
      });
      expect(String.fromCharCode(reply[0]!)).toBe('v');
      expect(reply.readInt32BE(5)).toBe(0x30000); // newest version the server supports (PG 15: 3.0)
    });
  });

  describe('TLS to the backend', () => {
    /** A proxy with one primary listener `name` that verifies the members' certificates against `ca`. */
    async function withVerifyingProxy(name: string, ca: string, use: (port: number) => Promise<void>): Promise<void> {
      const verifying = new ProxyServer({
        listeners: [listener(name, cluster.scope, {})],
        tls: { backend: { mode: 'verify-full', ca } },
        startupTimeoutMs: 1_500,
        targetParameterPrefix: 'router',
        feeds: new Map([[cluster.scope, feed]]),
        logger,
      });
      await verifying.start();
      try {
        await use(portOf(verifying, name));
      } finally {
        await verifying.close();
      }
    }

    it('verifies the backend certificate and hostname with verify-full', async () => {
      await withVerifyingProxy('verify-full', cluster.tlsCertFile, async (port) => {
        const row = await once<{ ssl: boolean }>(port, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
        expect(row.ssl).toBe(true);
      });
    });

    it('refuses with 08006 when the backend certificate is not signed by the configured CA', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-wrong-ca-'));
      try {
        const wrongCa = await createSelfSignedCert(dir);
        await withVerifyingProxy('verify-full-wrong-ca', wrongCa.certFile, async (port) => {
          const err = await connectError(port);
          expect(err.code).toBe('08006');
          expect(err.message).toContain(`could not connect to primary ${leader}`);
        });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('reload and drain', () => {
    it('reloads listeners: adds, removes (sessions run on) and restarts changed ones, leaving others alone', async () => {
      const scope = cluster.scope;
      const reloading = new ProxyServer({
        listeners: [listener('keep', scope, {}), listener('drop', scope, {}), listener('change', scope, { route: 'replica' })],
        tls: plainTls,
        startupTimeoutMs: 1_500,
        targetParameterPrefix: 'router',
        feeds: new Map([[scope, feed]]),
        logger,
      });
      await reloading.start();
      try {
        const keepPort = portOf(reloading, 'keep');
        const dropPort = portOf(reloading, 'drop');
        const keepClient = await connect(keepPort);
        const dropClient = await connect(dropPort);
        const changes = await reloading.applyListeners([
          listener('keep', scope, {}),
          listener('change', scope, { route: 'primary' }),
          listener('added', scope, { route: 'replica' }),
        ]);
        expect(changes).toEqual({ added: ['added'], removed: ['drop'], restarted: ['change'], unchanged: ['keep'] });
        expect(portOf(reloading, 'keep')).toBe(keepPort);
        expect((await keepClient.query('SELECT 1 AS one')).rows[0].one).toBe(1);
        expect((await dropClient.query('SELECT 1 AS one')).rows[0].one).toBe(1);
        await expect(connect(dropPort)).rejects.toThrow(/ECONNREFUSED/);
        expect((await once<{ ro: boolean }>(portOf(reloading, 'change'), 'SELECT pg_is_in_recovery() AS ro')).ro).toBe(false);
        expect((await once<{ ro: boolean }>(portOf(reloading, 'added'), 'SELECT pg_is_in_recovery() AS ro')).ro).toBe(true);
        await dropClient.end();
        await waitFor('the removed listener to go once its last session ended', () => !reloading.listeners().some((l) => l.name === 'drop'), { timeoutMs: 5_000, intervalMs: 20 });
        await keepClient.end();
      } finally {
        await reloading.close();
      }
    });

    it('drains: stops accepting, lets sessions finish, then closes the rest with FATAL 57P01', async () => {
      const draining = new ProxyServer({
        listeners: [listener('drain', cluster.scope, {})],
        tls: plainTls,
        startupTimeoutMs: 1_500,
        targetParameterPrefix: 'router',
        feeds: new Map([[cluster.scope, feed]]),
        logger,
      });
      await draining.start();
      const port = portOf(draining, 'drain');
      const finishing = await connect(port);
      const lingering = await connect(port);
      const lingeringError = new Promise<{ code?: string; message: string }>((resolve) => lingering.on('error', (e) => resolve(e as { code?: string; message: string })));
      const drained = draining.drain(1_000);
      await waitFor(
        'the listener to stop accepting',
        async () =>
          connect(port).then(
            (c) => c.end().then(() => false),
            () => true,
          ),
        { timeoutMs: 5_000, intervalMs: 20 },
      );
      await finishing.end();
      const err = await lingeringError;
      expect(err.code).toBe('57P01');
      expect(err.message).toBe('patroni-router is shutting down');
      await drained;
      expect(draining.sessions()).toEqual([]);
      await lingering.end().catch(() => {});
    });
  });

  describe('TLS termination with a certificate', () => {
    let tlsProxy: ProxyServer;

    beforeAll(async () => {
      tlsProxy = new ProxyServer({
        listeners: [listener('tls-primary', cluster.scope, {})],
        tls: { cert: cluster.tlsCertFile, key: cluster.tlsKeyFile, backend: { mode: 'disable' } },
        startupTimeoutMs: 1_500,
        targetParameterPrefix: 'router',
        feeds: new Map([[cluster.scope, feed]]),
        logger,
      });
      await tlsProxy.start();
    });

    afterAll(async () => {
      await tlsProxy?.close();
    });

    it('accepts a direct TLS ClientHello (PostgreSQL 17 sslnegotiation=direct) with ALPN postgresql', async () => {
      const port = portOf(tlsProxy, 'tls-primary');
      const params = emptyParams();
      params['user'] = 'postgres';
      const reply = await new Promise<{ alpn: string | false; bytes: Buffer }>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ALPNProtocols: ['postgresql'], rejectUnauthorized: false }, () => {
          socket.write(startupMessage(3, 0, params));
        });
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => {
          chunks.push(c);
          const all = Buffer.concat(chunks);
          // Stop at ReadyForQuery: 'Z' length 5 status.
          if (all.length >= 6 && all[all.length - 6] === 0x5a) {
            resolve({ alpn: socket.alpnProtocol ?? false, bytes: all });
            socket.destroy();
          }
        });
        socket.on('error', reject);
      });
      expect(reply.alpn).toBe('postgresql');
      expect(reply.bytes[0]).toBe(0x52); // AuthenticationOk (trust)
    });

    it('terminates client TLS (sslmode=require) and reaches the backend in plain text', async () => {
      const port = portOf(tlsProxy, 'tls-primary');
      const out = await runPsql(port, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', { PGSSLMODE: 'require' });
      expect(out.stderr).toBe('');
      expect(out.stdout).toBe('f');
      const row = await once<{ u: string }>(port, 'SELECT current_user AS u', {
        user: credentials.scram.user,
        password: credentials.scram.password,
        ssl: { rejectUnauthorized: false },
      });
      expect(row.u).toBe(credentials.scram.user);
      const plain = await once<{ one: number }>(port, 'SELECT 1 AS one');
      expect(plain.one).toBe(1);
    });
  });
});
