import { describe, expect, it } from 'vitest';
import { fencingVerdict } from '../../../src/routing/fencing-verdict.js';
import { batman, MB, request, tags, withMember, withoutMember } from './cluster-factory.js';
import type { ClusterState } from '../../../src/topology/cluster-state.js';

/** pg1 promoted after a switchover from pg0: pg0 is now a replica. */
function afterSwitchover(): ClusterState {
  let state = batman({ leader: 'pg1', writablePrimary: 'pg1', sync: { leader: 'pg1', standbys: [] } });
  state = withMember(state, 'pg1', { role: 'primary' });
  return withMember(state, 'pg0', { role: 'replica' });
}

describe('fencing on the primary route', () => {
  it('nothing changes, nothing is fenced', () => {
    expect(fencingVerdict(batman(), batman({ generation: 2 }), request('primary'))).toEqual([]);
  });

  it('fences the old primary the moment another member is the writable primary', () => {
    expect(fencingVerdict(batman(), afterSwitchover(), request('primary'))).toEqual([
      { member: 'pg0', reason: 'pg0 is no longer the primary of cluster batman (new primary: pg1)' },
    ]);
  });

  it('fences as soon as the leader key is deleted, even though pg0 still says master', () => {
    const next = batman({ leader: undefined, writablePrimary: undefined, switchoverPending: true });
    expect(fencingVerdict(batman(), next, request('primary'))).toEqual([
      { member: 'pg0', reason: 'pg0 is no longer the primary of cluster batman (switchover in progress (leader key released))' },
    ]);
  });

  it('fences when the topology goes stale and the DCS-loss policy withdrew the primary', () => {
    const next = batman({ writablePrimary: undefined, stale: true });
    const fences = fencingVerdict(batman(), next, request('primary', { now: 1_031_000 }));
    expect(fences).toEqual([{ member: 'pg0', reason: 'pg0 is no longer the primary of cluster batman (topology stale: DCS unreachable for 31 s)' }]);
  });
});

describe('fencing on read routes', () => {
  it('fences a replica that was promoted, even with fallback primary', () => {
    const fences = fencingVerdict(batman(), afterSwitchover(), request('replica', { fallback: 'primary' }));
    expect(fences).toEqual([{ member: 'pg1', reason: 'pg1 is no longer a replica target in cluster batman: pg1 is the primary' }]);
  });

  it('fences fallback sessions on the old primary while it is demoting', () => {
    const next = withMember(afterSwitchover(), 'pg0', { role: 'demoted' });
    expect(fencingVerdict(batman(), next, request('replica', { fallback: 'primary' }))).toContainEqual({
      member: 'pg0',
      reason: 'pg0 is no longer the primary of cluster batman (new primary: pg1)',
    });
  });

  it('keeps sessions that reached the primary through the fallback while it stays primary', () => {
    const noReplicas = withMember(withMember(batman(), 'pg1', { state: 'stopped' }), 'pg2', { state: 'stopped' });
    expect(fencingVerdict(noReplicas, batman(), request('replica', { fallback: 'primary' }))).toEqual([]);
  });

  it('fences a replica that was removed', () => {
    expect(fencingVerdict(batman(), withoutMember(batman(), 'pg2'), request('replica'))).toEqual([{ member: 'pg2', reason: 'pg2 was removed from cluster batman' }]);
  });

  it('fences a replica newly tagged noloadbalance', () => {
    const next = withMember(batman(), 'pg1', { tags: tags({ datacenter: 'dc1', noloadbalance: true }) });
    expect(fencingVerdict(batman(), next, request('replica', { tags: { datacenter: 'dc1' } }))).toEqual([
      { member: 'pg1', reason: 'pg1 is no longer a replica target in cluster batman: pg1 is tagged noloadbalance' },
    ]);
  });

  it('leaves lag beyond max_lag to the lag hysteresis: one high sample does not fence', () => {
    const next = withMember(batman(), 'pg2', { lagBytes: 20 * MB });
    expect(fencingVerdict(batman(), next, request('replica', { maxLagBytes: 16 * MB }))).toEqual([]);
  });

  it('does not fence a replica whose lag merely became unknown', () => {
    const next = withMember(batman(), 'pg2', { lagBytes: undefined });
    expect(fencingVerdict(batman(), next, request('replica', { maxLagBytes: 16 * MB }))).toEqual([]);
  });

  it('does not fence a replica whose REST probe failed while the DCS says running', () => {
    const next = withMember(batman(), 'pg1', { observed: { at: 1, reachable: false } });
    const fences = fencingVerdict(batman(), next, request('sync'));
    expect(fences).toEqual([]);
  });

  it('fences a sync standby that left the sync set', () => {
    const next = batman({ sync: { leader: 'pg0', standbys: [] } });
    expect(fencingVerdict(batman(), next, request('sync'))).toEqual([
      { member: 'pg1', reason: 'pg1 is no longer a sync standby target in cluster batman: pg1 is not a synchronous standby' },
    ]);
  });

  it('fences a cascading replica whose upstream stopped (and the upstream)', () => {
    const next = withMember(batman(), 'pg1', { state: 'stopped' });
    expect(fencingVerdict(batman(), next, request('replica'))).toEqual([
      { member: 'pg1', reason: 'pg1 is no longer a replica target in cluster batman: pg1 is not running (state: stopped)' },
      {
        member: 'pg2',
        reason: 'pg2 is no longer a replica target in cluster batman: pg2 replicates from pg1, which is not running (state: stopped)',
      },
    ]);
  });

  it('fences a member whose address changed', () => {
    const next = withMember(batman(), 'pg1', { port: 6434 });
    expect(fencingVerdict(batman(), next, request('replica'))).toEqual([{ member: 'pg1', reason: 'pg1 moved from 127.0.0.1:5434 to 127.0.0.1:6434' }]);
  });

  it('never fences members that were not eligible before', () => {
    const prev = withMember(batman(), 'pg2', { state: 'stopped' });
    const next = withMember(prev, 'pg2', { state: 'crashed' });
    expect(fencingVerdict(prev, next, request('replica'))).toEqual([]);
  });
});
