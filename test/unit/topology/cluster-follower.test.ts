import { describe, expect, it } from 'vitest';
import { ClusterFollower } from '../../../src/topology/cluster-follower.js';
import type { StateChange } from '../../../src/topology/cluster-state.js';
import type { ClusterSource } from '../../../src/config/types.js';
import { HandFedSource } from '../../support/hand-fed-feed.js';
import { captureLog } from '../../support/log-capture.js';
import { loadFixture } from './fixture-replay.js';

const config: ClusterSource = {
  scope: 'batman',
  namespace: 'service',
  etcd: { api: 'etcd3', endpoints: ['http://127.0.0.1:1'] },
  topology: { resyncIntervalMs: 30_000, probeIntervalMs: 0, probeTimeoutMs: 500, dcsLossWrites: 'ttl' },
};

describe('ClusterFollower with a hand-fed source', () => {
  it('publishes synchronously on each event and only when something changed', async () => {
    const source = new HandFedSource();
    let clock = 1_000;
    const { logger } = captureLog('debug');
    const follower = new ClusterFollower(config, logger, { source, now: () => clock });
    const seen: StateChange[] = [];
    follower.subscribe((c) => seen.push(c));
    follower.start();
    expect(follower.current()).toBeUndefined();
    const [snapshot, ...events] = loadFixture('switchover.jsonl');
    if (snapshot?.type !== 'snapshot') throw new Error('fixture must start with a snapshot');
    source.sink!.update({ kind: 'snapshot', keys: snapshot.keys });
    source.sink!.status('connected');
    expect(follower.current()!.writablePrimary).toBe('pg0');
    for (const e of events) {
      clock = 1_000 + e.tMs;
      const before = seen.length;
      if (e.type === 'snapshot') throw new Error('one snapshot only');
      source.sink!.update({ kind: 'events', events: [e.type === 'put' ? { type: 'put', key: e.key, value: e.value } : { type: 'delete', key: e.key }] });
      if (e.tMs === 4184) {
        // The promotion is published in the same call that delivered the event.
        expect(seen.length).toBe(before + 1);
        expect(seen.at(-1)!.next.writablePrimary).toBe('pg1');
      }
    }
    expect(follower.current()!.writablePrimary).toBe('pg1');
    const generations = seen.map((c) => c.next.generation);
    expect(generations).toEqual([...generations].sort((a, b) => a - b));
    expect(new Set(generations).size).toBe(generations.length);
    await follower.stop();
  });

  it('marks the state stale on DCS loss and clears the primary after ttl (timer-driven)', async () => {
    const source = new HandFedSource();
    let clock = 0;
    const follower = new ClusterFollower(config, captureLog('debug').logger, { source, now: () => clock, policyTickMs: 10 });
    follower.start();
    const snapshot = loadFixture('switchover.jsonl')[0]!;
    if (snapshot.type !== 'snapshot') throw new Error('fixture must start with a snapshot');
    source.sink!.update({ kind: 'snapshot', keys: snapshot.keys });
    source.sink!.status('connected');
    source.sink!.status('reconnecting', 'etcd gone');
    expect(follower.current()).toMatchObject({ stale: true, writablePrimary: 'pg0' });
    expect(follower.status()).toMatchObject({ watch: 'reconnecting', reconnects: 1, lastError: 'etcd gone', lastContact: 0 });
    clock = 30_001;
    const cleared = await new Promise<StateChange>((resolve) => follower.subscribe(resolve));
    expect(cleared.next.writablePrimary).toBeUndefined();
    expect(cleared.next.members).toHaveLength(3);
    await follower.stop();
  });

  it('logs each new problem once with its key and keeps the rest', async () => {
    const source = new HandFedSource();
    const log = captureLog('debug');
    const follower = new ClusterFollower(config, log.logger, { source });
    follower.start();
    source.sink!.update({
      kind: 'snapshot',
      keys: new Map([
        ['leader', 'a'],
        ['members/a', '{"conn_url":"postgres://h:1/x","state":"running","role":"master"}'],
        ['members/b', 'oops'],
      ]),
    });
    source.sink!.update({ kind: 'events', events: [{ type: 'put', key: 'status', value: '{"optime":5}' }] });
    expect(follower.current()!.writablePrimary).toBe('a');
    const warnings = log.lines().filter((l) => l.msg === 'bad value in Patroni keys');
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]!.problem)).toContain('members/b: not JSON');
    await follower.stop();
  });
});
