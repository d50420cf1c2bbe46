import { describe, expect, it } from 'vitest';
import { chooseBackends } from '../../../src/routing/choose-backends.js';
import { fencingVerdict } from '../../../src/routing/fencing-verdict.js';
import { batman, memory, names, request, withMember } from './cluster-factory.js';

describe('fallback', () => {
  const noReplicas = withMember(withMember(batman(), 'pg1', { state: 'stopped' }), 'pg2', { state: 'stopped' });

  it('is not used while the route has candidates', () => {
    const d = chooseBackends(batman(), request('replica', { fallback: 'primary' }), memory());
    expect(d.routeUsed).toBe('replica');
    expect(d.fallbackReason).toBeUndefined();
  });

  it('a read route falls back to the primary', () => {
    const d = chooseBackends(noReplicas, request('replica', { fallback: 'primary' }), memory());
    expect(d.routeUsed).toBe('primary');
    expect(names(d.candidates)).toEqual(['pg0']);
    expect(d.reason).toBeUndefined();
    expect(d.fallbackReason).toBe('no replica in cluster batman: pg1 is not running (state: stopped); pg2 is not running (state: stopped)');
  });

  it('sync falls back to async after a switchover cleared the sync key', () => {
    const state = batman({ sync: { leader: 'pg0', standbys: [] } });
    const d = chooseBackends(state, request('sync', { fallback: 'async' }), memory());
    expect(d.routeUsed).toBe('async');
    expect(names(d.candidates).sort()).toEqual(['pg1', 'pg2']);
  });

  it('when both are empty the reason names both', () => {
    const state = { ...noReplicas, leader: undefined, writablePrimary: undefined };
    const d = chooseBackends(state, request('replica', { fallback: 'primary' }), memory());
    expect(d.candidates).toEqual([]);
    expect(d.routeUsed).toBe('replica');
    expect(d.reason).toBe(
      'no replica in cluster batman: pg0 claims role primary but the leader key is absent; pg1 is not running (state: stopped); ' +
        'pg2 is not running (state: stopped); no primary either: leader election in progress',
    );
  });

  it('a fallback equal to the route is ignored', () => {
    const d = chooseBackends(noReplicas, request('replica', { fallback: 'replica' }), memory());
    expect(d.candidates).toEqual([]);
    expect(d.reason).toMatch(/^no replica in cluster batman: /);
    expect(d.reason).not.toMatch(/either/);
  });
});

describe('the fallback and the listener tag filter', () => {
  it('filters the route by tags but not its fallback: "a dc1 replica, else the primary"', () => {
    const state = batman();
    const inDc1 = chooseBackends(state, request('replica', { tags: { datacenter: 'dc1' }, fallback: 'primary' }), memory());
    expect(names(inDc1.candidates)).toEqual(['pg1']);
    const nowhere = chooseBackends(state, request('replica', { tags: { datacenter: 'nowhere' }, fallback: 'primary' }), memory());
    expect(nowhere.routeUsed).toBe('primary');
    expect(names(nowhere.candidates)).toEqual(['pg0']);
    expect(nowhere.fallbackReason).toContain('no replica in cluster batman');
  });

  it('keeps sessions that reached the primary through the fallback when a tagged replica appears', () => {
    const before = withMember(batman(), 'pg1', { state: 'stopped' });
    const req = request('replica', { tags: { datacenter: 'dc1' }, fallback: 'primary' });
    expect(fencingVerdict(before, batman(), req)).toEqual([]);
  });
});
