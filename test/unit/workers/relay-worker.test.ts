/**
 * A worker process's side, in this process: the messages a RelayWorker gets from the primary
 * and what it answers, with a real ProxyServer in front of FakePostgres. Forking is left to the
 * integration test (test/integration/workers.test.ts).
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { FromWorker, ToWorker } from '../../../src/workers/messages.js';
import { PRIMARY_LOST, RelayWorker } from '../../../src/workers/relay-worker.js';
import { freePort, waitFor } from '../../cluster/index.js';
import { FakePostgres } from '../../support/fake-postgres.js';
import { clusterStateOf } from '../../support/hand-fed-feed.js';

const SCOPE = 'fake';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function worker(): Promise<{ relay: RelayWorker; sent: FromWorker[]; exits: number[]; member: FakePostgres; port: number; send(m: ToWorker): void }> {
  const member = await FakePostgres.start();
  cleanups.push(() => member.close());
  const config = parseConfig(
    `scope: ${SCOPE}\netcd3: {hosts: "127.0.0.1:2379"}\nlisteners:\n  - {name: primary, port: ${await freePort()}, route: primary}\ntls: {backend: {mode: disable}}\nlog: {level: silent}\ndrain_timeout: 200ms\nworkers: 2\n`,
    'test',
    {},
  );
  const sent: FromWorker[] = [];
  const exits: number[] = [];
  const relay = new RelayWorker(
    (m) => sent.push(m),
    (code) => exits.push(code),
  );
  cleanups.push(async () => {
    relay.handle({ type: 'drain', timeoutMs: 0 });
    await waitFor('the worker to exit', () => exits.length > 0, { intervalMs: 5 });
  });
  const state = clusterStateOf(SCOPE, [{ name: 'm0', host: '127.0.0.1', port: member.port }], 'm0');
  relay.handle({ type: 'start', index: 2, count: 2, config, snapshots: [{ scope: SCOPE, seq: 1, state, changes: [] }] });
  const ready = await waitFor('the worker to be ready', () => sent.find((m): m is Extract<FromWorker, { type: 'ready' }> => m.type === 'ready'), { intervalMs: 5 });
  return { relay, sent, exits, member, port: ready.listeners[0]!.port!, send: (m) => relay.handle(m) };
}

async function client(port: number): Promise<pg.Client & { processID: number }> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'app', database: 'app', connectionTimeoutMillis: 3_000 });
  c.on('error', () => undefined);
  await c.connect();
  cleanups.push(() => c.end().catch(() => undefined));
  return c as pg.Client & { processID: number };
}

describe('RelayWorker', () => {
  it('listens once started, with its index in the cancel keys it issues, and reports its sessions and metrics', async () => {
    const w = await worker();
    const c = await client(w.port);
    expect(c.processID >>> 24).toBe(2);
    w.send({ type: 'report', id: 7, metrics: true });
    const report = await waitFor('the report', () => w.sent.find((m): m is Extract<FromWorker, { type: 'report' }> => m.type === 'report'), { intervalMs: 5 });
    expect(report.id).toBe(7);
    expect(report.report.sessions).toMatchObject([{ listener: 'primary', total: 1, byMember: { m0: 1 } }]);
    expect(report.report.cancelKeys).toBe(1);
    expect(report.report.metrics?.map((m) => m.name)).toEqual(
      expect.arrayContaining(['patroni_router_sessions', 'patroni_router_connections_accepted_total', 'process_cpu_seconds_total']),
    );
    // The topology's metrics are the primary's: a worker has none.
    expect(report.report.metrics?.some((m) => m.name === 'patroni_router_topology_generation')).toBe(false);
  });

  it('fences on a snapshot from the primary, and drops one older than what it has', async () => {
    const w = await worker();
    const c = await client(w.port);
    const ended = new Promise<Error & { code?: string }>((resolve) => c.once('error', resolve));
    const members = [{ name: 'm0', host: '127.0.0.1', port: w.member.port }];
    w.send({ type: 'snapshot', scope: SCOPE, seq: 1, state: clusterStateOf(SCOPE, members, undefined), changes: [] });
    w.send({ type: 'snapshot', scope: SCOPE, seq: 3, state: clusterStateOf(SCOPE, members, undefined, { leader: 'm0' }), changes: ['writable primary m0 -> (none)'] });
    // Fenced by the second snapshot (a leader key on a member still promoting), not the first (an election), which is no newer than the start's.
    const err = await ended;
    expect([err.code, err.message]).toEqual(['57P01', 'terminating connection: m0 is no longer the primary of cluster fake (leader key names m0, which is still promoting)']);
    expect(w.sent.filter((m) => m.type === 'notice').map((m) => (m.type === 'notice' ? m.name : ''))).toEqual(['sessionStarted', 'fenced']);
  });

  it('on losing the primary: write sessions fenced with why, no new writes, and it drains and exits', async () => {
    const w = await worker();
    const c = await client(w.port);
    const ended = new Promise<Error & { code?: string }>((resolve) => c.once('error', resolve));
    w.relay.primaryLost();
    expect(await ended).toMatchObject({ code: '57P01', message: expect.stringContaining(`topology stale: ${PRIMARY_LOST}`) });
    await waitFor('the worker to exit after its drain', () => w.exits.length === 1, { intervalMs: 5 });
    expect(w.exits).toEqual([0]);
  });

  it('applies a reload to its listeners and answers with the changes', async () => {
    const w = await worker();
    const config = parseConfig(
      `scope: ${SCOPE}\netcd3: {hosts: "127.0.0.1:2379"}\nlisteners:\n  - {name: primary, port: ${w.port}, route: primary}\n  - {name: replicas, port: ${await freePort()}, route: replica}\ntls: {backend: {mode: disable}}\nlog: {level: silent}\n`,
      'test',
      {},
    );
    w.send({ type: 'reload', id: 3, config });
    const answer = await waitFor('the reload answer', () => w.sent.find((m): m is Extract<FromWorker, { type: 'reloaded' }> => m.type === 'reloaded'), { intervalMs: 5 });
    expect(answer).toMatchObject({ id: 3, changes: { added: ['replicas'], unchanged: ['primary'] } });
    expect(answer.listeners.map((l) => l.name)).toEqual(['primary', 'replicas']);
  });
});
