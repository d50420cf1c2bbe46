import { describe, expect, it } from 'vitest';
import { chooseBackends } from '../../../src/routing/choose-backends.js';
import { batman, memory, names, request, tags, withMember } from './cluster-factory.js';

const choose = (state = batman(), extra = {}) => chooseBackends(state, request('primary', extra), memory());

describe('route primary', () => {
  it('returns exactly the writable primary', () => {
    const decision = choose();
    expect(names(decision.candidates)).toEqual(['pg0']);
    expect(decision.routeUsed).toBe('primary');
    expect(decision.reason).toBeUndefined();
  });

  it('excludes every other member with a reason', () => {
    const decision = choose();
    expect(decision.excluded).toEqual([
      { member: 'pg1', reason: 'role', detail: 'is a replica' },
      { member: 'pg2', reason: 'role', detail: 'is a replica' },
    ]);
  });

  it('never infers a primary from a member key alone: role primary without writablePrimary gives nothing', () => {
    const state = batman({ writablePrimary: undefined });
    const decision = choose(state);
    expect(decision.candidates).toEqual([]);
    expect(decision.excluded).toContainEqual({
      member: 'pg0',
      reason: 'not-leader',
      detail: 'holds the leader key but is not confirmed writable',
    });
  });

  it('ignores a second member claiming role primary when the leader key names another', () => {
    const state = withMember(batman(), 'pg1', { role: 'primary' });
    const decision = choose(state);
    expect(names(decision.candidates)).toEqual(['pg0']);
    expect(decision.excluded).toContainEqual({
      member: 'pg1',
      reason: 'not-leader',
      detail: 'claims role primary but the leader key names pg0',
    });
  });

  it('follows Patroni to a leader tagged nofailover, with a warning', () => {
    let state = withMember(batman({ leader: 'pg2', writablePrimary: 'pg2' }), 'pg2', { role: 'primary' });
    state = withMember(state, 'pg0', { role: 'replica' });
    const decision = choose(state);
    expect(names(decision.candidates)).toEqual(['pg2']);
    expect(decision.warnings).toEqual(['primary pg2 of cluster batman is tagged nofailover; writes follow the leader key anyway']);
  });

  it('has no warnings for an ordinary primary', () => {
    expect(choose().warnings).toEqual([]);
  });

  it('applies tag filters to the primary too', () => {
    const state = withMember(batman(), 'pg0', { tags: tags({ datacenter: 'dc1' }) });
    expect(names(choose(state, { tags: { datacenter: 'dc1' } }).candidates)).toEqual(['pg0']);
    const refused = choose(state, { tags: { datacenter: 'dc2' } });
    expect(refused.candidates).toEqual([]);
    expect(refused.reason).toBe('no primary in cluster batman: pg0 has tag datacenter=dc1 (wanted dc2)');
  });

  it('ignores maxLagBytes and noloadbalance for the primary', () => {
    const state = withMember(batman(), 'pg0', { tags: tags({ noloadbalance: true }), lagBytes: undefined });
    expect(names(choose(state, { maxLagBytes: 1 }).candidates)).toEqual(['pg0']);
  });

  it('refuses a writable primary without an address', () => {
    const state = withMember(batman(), 'pg0', { host: undefined });
    const decision = choose(state);
    expect(decision.candidates).toEqual([]);
    expect(decision.reason).toBe('no primary in cluster batman: pg0 has no usable conn_url');
  });

  it('picks the same single candidate whatever the balance', () => {
    for (const balance of ['round-robin', 'least-connections', 'random'] as const) {
      const decision = chooseBackends(batman(), request('primary', { balance }), memory({ nextIndex: 7, random: () => 0.99 }));
      expect(names(decision.candidates)).toEqual(['pg0']);
    }
  });
});
