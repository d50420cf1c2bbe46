/**
 * The follower asks the leader-to-be every few ms during a leader change and publishes it as
 * soon as its REST API shows a running primary, before its member key says so. Real HTTP
 * servers on loopback stand in for the members' Patroni REST APIs; the DCS is hand-fed from
 * the recorded switchover.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterFollower } from '../../../src/topology/cluster-follower.js';
import type { ClusterState } from '../../../src/topology/cluster-state.js';
import type { KeyEvent } from '../../../src/topology/topology-source.js';
import type { ClusterSource } from '../../../src/config/types.js';
import { waitFor } from '../../cluster/index.js';
import { HandFedSource } from '../../support/hand-fed-feed.js';
import { loadFixture } from './fixture-replay.js';

/** A member's REST API: answers GET /patroni with whatever `answer` holds, records request times. */
class FakeRest {
  answer: Record<string, unknown> = {};
  readonly asked: number[] = [];
  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<FakeRest> {
    let self: FakeRest | undefined;
    const server = http.createServer((req, res) => {
      self!.asked.push(Date.now());
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(self!.answer));
    });
    self = new FakeRest(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/patroni`;
  }

  askedSince(t: number): number {
    return this.asked.filter((x) => x >= t).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const replica = { state: 'running', role: 'replica', timeline: 3, xlog: { received_location: 100, replayed_location: 100, paused: false } };
const primary = { state: 'running', role: 'master', timeline: 4, xlog: { location: 200 } };

const config: ClusterSource = {
  scope: 'batman',
  namespace: 'service',
  etcd: { api: 'etcd3', endpoints: ['http://127.0.0.1:1'] },
  topology: { resyncIntervalMs: 30_000, probeIntervalMs: 1000, probeTimeoutMs: 500, dcsLossWrites: 'ttl' },
};

describe('probe focus during a leader change', () => {
  const rests = new Map<string, FakeRest>();
  let follower: ClusterFollower | undefined;

  afterEach(async () => {
    await follower?.stop();
    for (const r of rests.values()) await r.close();
    rests.clear();
  });

  /** The fixture's keys with api_url pointing at local fake REST APIs; returns the events after the snapshot. */
  async function setUp(
    now?: () => number,
    probeIntervalMs = config.topology.probeIntervalMs,
  ): Promise<{ source: HandFedSource; events: KeyEvent[]; eventsAt: number[]; publishes: Array<{ t: number; state: ClusterState }> }> {
    for (const name of ['pg0', 'pg1', 'pg2']) rests.set(name, await FakeRest.start());
    rests.get('pg0')!.answer = { ...primary, timeline: 3 };
    rests.get('pg1')!.answer = replica;
    rests.get('pg2')!.answer = replica;
    // The recording's members answer on 8008 (pg0), 8009 (pg1), 8010 (pg2).
    const pointAtFake = (value: string): string =>
      value.replace(/http:\/\/127\.0\.0\.1:(80(?:08|09|10))\/patroni/, (_url, port: string) => rests.get(`pg${Number(port) - 8008}`)!.url);
    const [snapshot, ...rest] = loadFixture('switchover.jsonl');
    if (snapshot?.type !== 'snapshot') throw new Error('fixture must start with a snapshot');
    const keys = new Map([...snapshot.keys].map(([k, v]) => [k, pointAtFake(v)]));
    const events: KeyEvent[] = [];
    const eventsAt: number[] = [];
    for (const e of rest) {
      if (e.type === 'snapshot') continue;
      events.push(e.type === 'put' ? { type: 'put', key: e.key, value: pointAtFake(e.value) } : { type: 'delete', key: e.key });
      eventsAt.push(e.tMs);
    }
    const source = new HandFedSource();
    follower = new ClusterFollower({ ...config, topology: { ...config.topology, probeIntervalMs } }, pino({ level: 'silent' }), {
      source,
      focusProbeIntervalMs: 20,
      ...(now === undefined ? {} : { now }),
    });
    const publishes: Array<{ t: number; state: ClusterState }> = [];
    follower.subscribe((c) => publishes.push({ t: Date.now(), state: c.next }));
    follower.start();
    source.sink!.update({ kind: 'snapshot', keys });
    source.sink!.status('connected');
    return { source, events, eventsAt, publishes };
  }

  /** Delivers the recorded events with t_ms in [from, to]. */
  function deliver(source: HandFedSource, events: KeyEvent[], eventsAt: number[], from: number, to: number): void {
    events.forEach((e, i) => {
      if (eventsAt[i]! >= from && eventsAt[i]! <= to) source.sink!.update({ kind: 'events', events: [e] });
    });
  }

  it('asks the leader, then every member, then the new leader at the focus interval, and publishes pg1 from its REST answer', async () => {
    const { source, events, eventsAt, publishes } = await setUp();
    const f = follower!;
    const focus = (): readonly string[] => f.status().probeFocus;
    expect(focus()).toEqual([]);

    deliver(source, events, eventsAt, 1459, 1459); // failover key: {"leader":"pg0","member":"pg1"}
    expect(focus()).toEqual(['pg0']);
    let t = Date.now();
    await waitFor('pg0 to be asked 5 times at the focus interval', () => rests.get('pg0')!.askedSince(t) >= 5, { timeoutMs: 2000, intervalMs: 10 });
    expect(f.current()!.writablePrimary).toBe('pg0'); // still the primary until it lets go

    deliver(source, events, eventsAt, 1548, 2736); // ... leader key deleted
    expect(focus()).toEqual(['pg0', 'pg1', 'pg2']);
    t = Date.now();
    await waitFor('every member to be asked 3 times', () => [...rests.values()].every((r) => r.askedSince(t) >= 3), { timeoutMs: 2000, intervalMs: 10 });

    deliver(source, events, eventsAt, 2784, 2980); // leader=pg1, failover {}, pg1's key still replica
    expect(f.current()).toMatchObject({ leader: 'pg1', switchoverPending: false });
    expect(f.current()!.writablePrimary).toBeUndefined();
    expect(focus()).toEqual(['pg1']);
    t = Date.now();
    await waitFor('pg1 to be asked 3 times', () => rests.get('pg1')!.askedSince(t) >= 3, { timeoutMs: 2000, intervalMs: 10 });
    expect(f.current()!.writablePrimary).toBeUndefined(); // REST still says replica

    const promotedAt = Date.now();
    rests.get('pg1')!.answer = primary;
    const s = await waitFor('pg1 published as writable primary from its REST answer', () => (f.current()?.writablePrimary === 'pg1' ? f.current() : undefined), {
      timeoutMs: 2000,
      intervalMs: 5,
    });
    expect(s!.members.find((m) => m.name === 'pg1')!.role).toBe('replica'); // its member key has not caught up
    const published = publishes.find((p) => p.state.writablePrimary === 'pg1')!;
    expect(published.t - promotedAt).toBeLessThan(500); // a 20 ms focus interval, not the 1 s probe interval
    expect(focus()).toEqual([]); // settled: back to the normal interval

    deliver(source, events, eventsAt, 4080, 4184); // the member key catches up: nothing changes for writes
    expect(f.current()!.writablePrimary).toBe('pg1');
  });

  it('gives up focusing ttl seconds after the leader change when no primary appears', async () => {
    let offset = 0;
    const { source, events, eventsAt } = await setUp(() => Date.now() + offset);
    deliver(source, events, eventsAt, 1459, 2736); // failover key, then leader key deleted; nobody takes over
    expect(follower!.status().probeFocus).toEqual(['pg0', 'pg1', 'pg2']);
    offset = 30_001; // the fixture's ttl is 30 s
    await waitFor('the focus to end', () => follower!.status().probeFocus.length === 0, { timeoutMs: 2000, intervalMs: 10 });
    expect(follower!.current()!.writablePrimary).toBeUndefined();
  });

  it('asks a member a session doubted at once, not at the next probe', async () => {
    // A minute between probes: only the doubt can make the follower ask again within this test.
    await setUp(undefined, 60_000);
    const f = follower!;
    await waitFor('the first probe of pg0', () => rests.get('pg0')!.asked.length >= 1 && f.current()?.writablePrimary === 'pg0', { timeoutMs: 2000, intervalMs: 10 });
    const askedBefore = rests.get('pg0')!.asked.length;
    // Demoted behind the DCS's back (Patroni lost etcd): only its REST API can tell.
    rests.get('pg0')!.answer = { ...replica, timeline: 3 };
    f.doubt('pg0', 'a write login found it in hot standby');
    await waitFor('the router to stop naming pg0 the writable primary', () => f.current()?.writablePrimary === undefined, { timeoutMs: 2000, intervalMs: 5 });
    expect(rests.get('pg0')!.asked.length).toBe(askedBefore + 1);
  });
});
