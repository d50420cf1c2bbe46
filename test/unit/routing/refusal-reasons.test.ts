import { describe, expect, it } from 'vitest';
import { chooseBackends } from '../../../src/routing/choose-backends.js';
import { batman, cluster, member, memory, MB, request, tags, withMember } from './cluster-factory.js';
import type { RouteKind } from '../../../src/config/types.js';
import type { ClusterState } from '../../../src/topology/cluster-state.js';
import type { RouteRequest } from '../../../src/routing/route-request.js';

const reason = (state: ClusterState, route: RouteKind, extra: Partial<RouteRequest> = {}) => chooseBackends(state, request(route, extra), memory()).reason;

describe('why there is no primary', () => {
  it('leader key absent: leader election in progress', () => {
    expect(reason(batman({ leader: undefined, writablePrimary: undefined }), 'primary')).toBe('no primary in cluster batman: leader election in progress');
  });

  it('leader key names a member still promoting during a switchover', () => {
    const state = batman({ leader: 'pg1', writablePrimary: undefined, switchoverPending: true });
    expect(reason(state, 'primary')).toBe('no primary in cluster batman: switchover in progress (leader key names pg1, still promoting)');
  });

  it('leader key names a member still promoting (no switchover request)', () => {
    const state = withMember(batman({ leader: 'pg1', writablePrimary: undefined }), 'pg1', { role: 'promoted' });
    expect(reason(state, 'primary')).toBe('no primary in cluster batman: leader key names pg1, which is still promoting');
  });

  it('leader key released during a switchover', () => {
    const state = batman({
      leader: undefined,
      writablePrimary: undefined,
      switchoverPending: true,
      failover: { leader: 'pg0', candidate: 'pg1' },
    });
    expect(reason(state, 'primary')).toBe('no primary in cluster batman: switchover in progress (leader key released, pg1 taking over)');
  });

  it('paused cluster without a leader', () => {
    const state = batman({ leader: undefined, writablePrimary: undefined });
    const paused = { ...state, config: { ...state.config, pause: true } };
    expect(reason(paused, 'primary')).toBe('no primary in cluster batman: cluster is paused and has no leader');
  });

  it('stale topology', () => {
    const state = batman({ writablePrimary: undefined, stale: true, lastDcsContact: 1_000_000 });
    expect(reason(state, 'primary', { now: 1_031_000 })).toBe('no primary in cluster batman: topology stale: DCS unreachable for 31 s');
  });

  it('stale topology names the DCS-loss policy and the time left, and a primary Patroni demoted meanwhile', () => {
    const state = batman({ writablePrimary: undefined, stale: true, lastDcsContact: 1_000_000, dcsLossPolicy: 'ttl' });
    expect(reason(state, 'primary', { now: 1_020_000 })).toBe(
      'no primary in cluster batman: topology stale: DCS unreachable for 20 s (dcs_loss_writes: ttl: writes until ttl 30 s after the last contact, 10 s left)',
    );
    expect(reason(state, 'primary', { now: 1_031_000 })).toBe('no primary in cluster batman: topology stale: DCS unreachable for 31 s (dcs_loss_writes: ttl: past ttl 30 s)');
    expect(reason({ ...state, dcsLossPolicy: 'refuse' }, 'primary', { now: 1_005_000 })).toBe(
      'no primary in cluster batman: topology stale: DCS unreachable for 5 s (dcs_loss_writes: refuse: no writes until the DCS answers)',
    );
    const demoted = withMember(state, 'pg0', { observed: { at: 1_019_000, reachable: true, role: 'replica', state: 'running' } });
    expect(reason(demoted, 'primary', { now: 1_020_000 })).toBe(
      'no primary in cluster batman: leader pg0 reports role replica on its REST API (Patroni demotes a primary that cannot reach the DCS within retry_timeout); topology stale: DCS unreachable for 20 s (dcs_loss_writes: ttl: writes until ttl 30 s after the last contact, 10 s left)',
    );
  });

  it('stale topology without a clock gives the time of last contact', () => {
    const state = batman({ writablePrimary: undefined, stale: true, lastDcsContact: Date.UTC(2026, 10, 26, 14, 0, 0) });
    expect(reason(state, 'primary')).toBe('no primary in cluster batman: topology stale: DCS unreachable since 2026-11-26T14:00:00.000Z');
  });

  it('leader key names a member without a member key', () => {
    expect(reason(batman({ leader: 'pg7', writablePrimary: undefined }), 'primary')).toBe('no primary in cluster batman: leader key names pg7, which has no member key');
  });

  it('leader not running', () => {
    const state = withMember(batman({ writablePrimary: undefined }), 'pg0', { state: 'stopping' });
    expect(reason(state, 'primary')).toBe('no primary in cluster batman: leader pg0 is not running (state: stopping)');
  });

  it('leader demoting', () => {
    const state = withMember(batman({ writablePrimary: undefined }), 'pg0', { role: 'demoted' });
    expect(reason(state, 'primary')).toBe('no primary in cluster batman: leader pg0 is being demoted');
  });

  it('leader REST API disagrees', () => {
    const state = withMember(batman({ writablePrimary: undefined }), 'pg0', { observed: { at: 1, reachable: true, role: 'replica' } });
    expect(reason(state, 'primary')).toBe('no primary in cluster batman: leader pg0 reports role replica on its REST API');
  });

  it('standby cluster', () => {
    const state = cluster([member('s0', { role: 'standby_leader' })], { leader: 's0' });
    expect(reason(state, 'primary')).toBe('no primary in cluster batman: it is a standby cluster (s0 is its standby leader, read-only)');
  });
});

describe('why there is no read target', () => {
  it('lists each member and why, leaving out the primary', () => {
    let state = withMember(batman(), 'pg1', { lagBytes: 20 * MB });
    state = withMember(state, 'pg2', { tags: tags({ noloadbalance: true }) });
    expect(reason(state, 'replica', { maxLagBytes: 16 * MB })).toBe('no replica in cluster batman: pg1 lags 20 MB (max 16 MB); pg2 is tagged noloadbalance');
  });

  it('sync key lists none', () => {
    expect(reason(batman({ sync: { leader: 'pg0', standbys: [] } }), 'sync')).toBe('no sync standby in cluster batman: sync key lists none');
  });

  it('synchronous_mode is off', () => {
    const state = batman({ sync: { standbys: [] } });
    expect(reason({ ...state, config: { ...state.config, synchronousMode: false } }, 'sync')).toBe('no sync standby in cluster batman: synchronous_mode is off');
  });

  it('sync standby excluded: names only it, not the non-sync members', () => {
    const state = withMember(batman(), 'pg1', { state: 'stopped' });
    expect(reason(state, 'sync')).toBe('no sync standby in cluster batman: pg1 is not running (state: stopped)');
  });

  it('only a primary: says so', () => {
    const state = cluster([member('pg0', { role: 'primary' })], { leader: 'pg0', writablePrimary: 'pg0' });
    expect(reason(state, 'replica')).toBe('no replica in cluster batman: pg0 is the primary');
  });

  it('no members at all', () => {
    expect(reason(cluster([]), 'read-only')).toBe('no readable member in cluster batman: no members registered');
  });

  it('mentions a stale topology', () => {
    const state = withMember(batman({ stale: true }), 'pg1', { state: 'stopped' });
    expect(reason(state, 'sync', { now: 1_005_000 })).toBe('no sync standby in cluster batman: pg1 is not running (state: stopped); topology stale: DCS unreachable for 5 s');
  });

  it('stays readable with many members', () => {
    const members = Array.from({ length: 8 }, (_, i) => member(`r${i}`, { state: 'stopped' }));
    expect(reason(cluster(members), 'replica')).toBe(
      'no replica in cluster batman: r0 is not running (state: stopped); r1 is not running (state: stopped); ' +
        'r2 is not running (state: stopped); r3 is not running (state: stopped); r4 is not running (state: stopped); and 3 more',
    );
  });
});

describe('stale topology with a candidate', () => {
  it('routes on the last known state and warns', () => {
    const d = chooseBackends(batman({ stale: true }), request('replica', { now: 1_012_000 }), memory());
    expect(d.candidates.length).toBe(2);
    expect(d.warnings).toEqual(['topology stale: DCS unreachable for 12 s; routing on the last known topology']);
  });
});
