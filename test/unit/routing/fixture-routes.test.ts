/**
 * The recorded switchover (fixtures/patroni-3.0.2/switchover.jsonl) replayed through the
 * topology's pure state builder, then routed: what a client of each listener would get at
 * each moment of a real Patroni 3.0.2 switchover pg0 -> pg1.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../../src/topology/cluster-state.js';
import { chooseBackends } from '../../../src/routing/choose-backends.js';
import { fencingVerdict } from '../../../src/routing/fencing-verdict.js';
import { replayFixture } from '../topology/fixture-replay.js';
import { memory, names, request } from './cluster-factory.js';

function replay(name: string): { tMs: number; state: ClusterState }[] {
  return replayFixture(name).map((r) => ({ tMs: r.step.tMs, state: r.state }));
}

const steps = replay('switchover.jsonl');
const at = (tMs: number): ClusterState => {
  const hits = steps.filter((s) => s.tMs <= tMs);
  const last = hits[hits.length - 1];
  if (last === undefined) throw new Error(`no fixture step at or before ${tMs} ms`);
  return last.state;
};
const primaryAt = (tMs: number) => chooseBackends(at(tMs), request('primary'), memory());

describe('routing through the recorded switchover pg0 -> pg1', () => {
  it('before: writes to pg0, replicas pg1 and pg2 (pg2 via its upstream pg1), sync is pg1', () => {
    expect(names(primaryAt(0).candidates)).toEqual(['pg0']);
    expect(names(chooseBackends(at(0), request('replica'), memory()).candidates)).toEqual(['pg1', 'pg2']);
    expect(names(chooseBackends(at(0), request('sync'), memory()).candidates)).toEqual(['pg1']);
    expect(names(chooseBackends(at(0), request('async'), memory()).candidates)).toEqual(['pg2']);
    expect(names(chooseBackends(at(0), request('replica', { tags: { datacenter: 'dc2' } }), memory()).candidates)).toEqual(['pg2']);
  });

  it('switchover requested: new write sessions wait from the failover key on, while pg0 is still primary', () => {
    expect(names(primaryAt(1458).candidates)).toEqual(['pg0']);
    expect(at(1459).writablePrimary).toBe('pg0');
    const during = primaryAt(1459);
    expect(during.candidates).toEqual([]);
    expect(during.reason).toBe('no primary in cluster batman: switchover in progress (pg0 is handing over to pg1)');
    // Running sessions are not cut for a request alone: Patroni may still refuse it.
    expect(fencingVerdict(at(1458), at(1600), request('primary'))).toEqual([]);
  });

  it('leader key deleted: writes refused with the switchover named', () => {
    expect(primaryAt(2736).reason).toBe('no primary in cluster batman: switchover in progress (leader key released, pg1 taking over)');
  });

  it('leader key names pg1 before it is writable: writes still refused', () => {
    expect(primaryAt(2832).reason).toBe('no primary in cluster batman: switchover in progress (leader key names pg1, still promoting)');
  });

  it('pg1 says master: writes go to pg1', () => {
    expect(names(primaryAt(4184).candidates)).toEqual(['pg1']);
  });

  it('the old primary is fenced on the primary route as soon as the leader key goes', () => {
    expect(fencingVerdict(at(2735), at(2736), request('primary'))).toEqual([
      {
        member: 'pg0',
        reason: 'pg0 is no longer the primary of cluster batman (switchover in progress (leader key released, pg1 taking over))',
      },
    ]);
  });

  it("the sync route has no candidate while the new leader's sync key lists none", () => {
    const d = chooseBackends(at(3000), request('sync'), memory());
    expect(d.candidates).toEqual([]);
    expect(d.reason).toBe('no sync standby in cluster batman: sync key lists none');
    const withFallback = chooseBackends(at(3000), request('sync', { fallback: 'async' }), memory());
    expect(withFallback.routeUsed).toBe('async');
  });

  it('never offers two write targets or a non-writable one at any step', () => {
    for (const { tMs, state } of steps) {
      const d = chooseBackends(state, request('primary'), memory());
      expect(d.candidates.length, `at ${tMs} ms`).toBeLessThanOrEqual(1);
      if (d.candidates.length === 1) expect(d.candidates[0]?.name, `at ${tMs} ms`).toBe(state.writablePrimary);
      else expect(d.reason, `at ${tMs} ms`).toMatch(/^no primary in cluster batman: /);
    }
  });
});
