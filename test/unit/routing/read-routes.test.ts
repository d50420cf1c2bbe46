import { describe, expect, it } from 'vitest';
import { chooseBackends } from '../../../src/routing/choose-backends.js';
import { batman, cluster, member, memory, MB, names, request, tags, withMember } from './cluster-factory.js';
import type { RouteKind } from '../../../src/config/types.js';
import type { RouteRequest } from '../../../src/routing/route-request.js';

const eligible = (state: ReturnType<typeof batman>, route: RouteKind, extra: Partial<RouteRequest> = {}): string[] =>
  names(chooseBackends(state, request(route, extra), memory()).candidates).sort();
const exclusion = (state: ReturnType<typeof batman>, route: RouteKind, who: string, extra: Partial<RouteRequest> = {}) =>
  chooseBackends(state, request(route, extra), memory()).excluded.find((e) => e.member === who);

describe('route replica', () => {
  it('uses running replicas, never the primary', () => {
    expect(eligible(batman(), 'replica')).toEqual(['pg1', 'pg2']);
    expect(exclusion(batman(), 'replica', 'pg0')).toEqual({ member: 'pg0', reason: 'role', detail: 'is the primary' });
  });

  it('excludes noloadbalance members with reason noloadbalance', () => {
    const state = withMember(batman(), 'pg1', { tags: tags({ datacenter: 'dc1', noloadbalance: true }) });
    expect(eligible(state, 'replica')).toEqual(['pg2']);
    expect(exclusion(state, 'replica', 'pg1')?.reason).toBe('noloadbalance');
  });

  it('excludes a replica that is not running', () => {
    const state = withMember(batman(), 'pg1', { state: 'starting' });
    expect(exclusion(state, 'replica', 'pg1')).toEqual({ member: 'pg1', reason: 'state', detail: 'is not running (state: starting)' });
  });

  it('excludes a replica that holds the leader key (promotion underway)', () => {
    const state = batman({ leader: 'pg1', writablePrimary: undefined });
    expect(exclusion(state, 'replica', 'pg1')).toEqual({
      member: 'pg1',
      reason: 'role',
      detail: 'holds the leader key and is being promoted (role replica)',
    });
  });

  it('excludes members with roles promoted, demoted, uninitialized', () => {
    let state = withMember(batman(), 'pg1', { role: 'promoted' });
    state = withMember(state, 'pg2', { role: 'demoted' });
    expect(eligible(state, 'replica')).toEqual([]);
    expect(exclusion(state, 'replica', 'pg1')?.detail).toBe('is being promoted');
    expect(exclusion(state, 'replica', 'pg2')?.detail).toBe('is being demoted');
    expect(exclusion(withMember(batman(), 'pg1', { role: 'uninitialized' }), 'replica', 'pg1')?.reason).toBe('role');
  });
});

describe('tag filters', () => {
  it('match tags as Patroni wrote them (string values)', () => {
    expect(eligible(batman(), 'replica', { tags: { datacenter: 'dc2' } })).toEqual(['pg2']);
    expect(exclusion(batman(), 'replica', 'pg1', { tags: { datacenter: 'dc2' } })).toEqual({
      member: 'pg1',
      reason: 'tag',
      detail: 'has tag datacenter=dc1 (wanted dc2)',
    });
  });

  it('match boolean tags as "true"', () => {
    expect(eligible(batman(), 'replica', { tags: { nofailover: 'true' } })).toEqual(['pg2']);
    expect(exclusion(batman(), 'replica', 'pg1', { tags: { nofailover: 'true' } })?.detail).toBe('has no tag nofailover (wanted true)');
  });

  it('require every entry to match', () => {
    expect(eligible(batman(), 'replica', { tags: { datacenter: 'dc2', nosync: 'true' } })).toEqual(['pg2']);
    expect(eligible(batman(), 'replica', { tags: { datacenter: 'dc2', nosync: 'false' } })).toEqual([]);
  });
});

describe('route sync and async', () => {
  it('sync uses replicas listed in the sync key', () => {
    expect(eligible(batman(), 'sync')).toEqual(['pg1']);
    expect(exclusion(batman(), 'sync', 'pg2')).toEqual({ member: 'pg2', reason: 'not-sync', detail: 'is not a synchronous standby' });
  });

  it('the sync key, not the nosync tag, says who is synchronous', () => {
    const state = batman({ sync: { leader: 'pg0', standbys: ['pg1', 'pg2'] } });
    expect(eligible(state, 'sync')).toEqual(['pg1', 'pg2']);
  });

  it('async uses replicas not in the sync key', () => {
    expect(eligible(batman(), 'async')).toEqual(['pg2']);
    expect(exclusion(batman(), 'async', 'pg1')).toEqual({ member: 'pg1', reason: 'sync', detail: 'is a synchronous standby' });
  });

  it('ignores a sync key left by a previous leader', () => {
    const state = batman({ sync: { leader: 'pg9', standbys: ['pg1'] } });
    expect(eligible(state, 'sync')).toEqual([]);
    expect(eligible(state, 'async')).toEqual(['pg1', 'pg2']);
  });

  it('a primary listed in the sync key is still not a sync standby', () => {
    const state = batman({ sync: { leader: 'pg0', standbys: ['pg0', 'pg1'] } });
    expect(eligible(state, 'sync')).toEqual(['pg1']);
  });
});

describe('route read-only', () => {
  it('uses the writable primary and eligible replicas', () => {
    expect(eligible(batman(), 'read-only')).toEqual(['pg0', 'pg1', 'pg2']);
  });

  it('uses replicas when there is no writable primary', () => {
    expect(eligible(batman({ leader: undefined, writablePrimary: undefined }), 'read-only')).toEqual(['pg1', 'pg2']);
  });

  it("keeps noloadbalance replicas out but not the primary: Patroni's /read-only answers 200 on the leader whatever its tags", () => {
    const state = withMember(withMember(batman(), 'pg0', { tags: tags({ noloadbalance: true }) }), 'pg1', { tags: tags({ noloadbalance: true }) });
    expect(eligible(state, 'read-only')).toEqual(['pg0', 'pg2']);
    expect(exclusion(state, 'read-only', 'pg1')?.reason).toBe('noloadbalance');
  });

  it('includes the standby leader of a standby cluster, as /read-only does', () => {
    const state = cluster([member('s0', { role: 'standby_leader', lagBytes: undefined }), member('s1')], { leader: 's0' });
    expect(eligible(state, 'read-only')).toEqual(['s0', 's1']);
  });

  it('does not apply the lag limit to the primary', () => {
    expect(eligible(batman(), 'read-only', { maxLagBytes: 1 })).toContain('pg0');
  });
});

describe('route any', () => {
  it('uses every usable running member', () => {
    expect(eligible(batman(), 'any')).toEqual(['pg0', 'pg1', 'pg2']);
  });

  it('keeps noloadbalance replicas and stopped members out', () => {
    let state = withMember(batman(), 'pg1', { tags: tags({ noloadbalance: true }) });
    state = withMember(state, 'pg2', { state: 'stopped' });
    expect(eligible(state, 'any')).toEqual(['pg0']);
  });

  it('includes a running standby leader in a standby cluster', () => {
    const state = cluster([member('s0', { role: 'standby_leader', lagBytes: undefined }), member('s1')], { leader: 's0' });
    expect(eligible(state, 'any')).toEqual(['s0', 's1']);
  });
});

describe('route standby-leader', () => {
  const standbyCluster = (leader?: string) => cluster([member('s0', { role: 'standby_leader', lagBytes: undefined }), member('s1')], { leader });

  it('uses the running standby leader named by the leader key', () => {
    expect(eligible(standbyCluster('s0'), 'standby-leader')).toEqual(['s0']);
    expect(exclusion(standbyCluster('s0'), 'standby-leader', 's1')?.detail).toBe('is a replica');
  });

  it('does not trust a standby_leader member key without the leader key', () => {
    expect(eligible(standbyCluster(undefined), 'standby-leader')).toEqual([]);
    expect(exclusion(standbyCluster(undefined), 'standby-leader', 's0')).toEqual({
      member: 's0',
      reason: 'not-leader',
      detail: 'claims role standby_leader but the leader key is absent',
    });
  });

  it('is empty in an ordinary cluster', () => {
    expect(eligible(batman(), 'standby-leader')).toEqual([]);
  });

  it('ignores noloadbalance (it names one specific member)', () => {
    const state = withMember(standbyCluster('s0'), 's0', { tags: tags({ noloadbalance: true }) });
    expect(eligible(state, 'standby-leader')).toEqual(['s0']);
  });
});

describe('cascading replicas (replicatefrom)', () => {
  it('pg2 is a read target while its upstream pg1 is a running replica', () => {
    expect(eligible(batman(), 'replica')).toContain('pg2');
  });

  it('pg2 is excluded when pg1 stops', () => {
    const state = withMember(batman(), 'pg1', { state: 'stopped' });
    expect(exclusion(state, 'replica', 'pg2')).toEqual({
      member: 'pg2',
      reason: 'upstream',
      detail: 'replicates from pg1, which is not running (state: stopped)',
    });
  });

  it('pg2 is excluded when pg1 left the cluster', () => {
    const state = { ...batman(), members: batman().members.filter((m) => m.name !== 'pg1') };
    expect(exclusion(state, 'replica', 'pg2')?.detail).toBe('replicates from pg1, which is not in the cluster');
  });

  it('pg2 stays a target when pg1 is the writable primary', () => {
    let state = batman({ leader: 'pg1', writablePrimary: 'pg1', sync: { leader: 'pg1', standbys: [] } });
    state = withMember(withMember(state, 'pg1', { role: 'primary' }), 'pg0', { role: 'replica' });
    expect(eligible(state, 'replica')).toEqual(['pg0', 'pg2']);
  });

  it('pg2 is excluded while pg1 is mid-promotion (neither replica nor writable primary)', () => {
    const state = withMember(batman({ leader: 'pg1', writablePrimary: undefined }), 'pg1', { role: 'promoted' });
    expect(exclusion(state, 'replica', 'pg2')?.detail).toBe('replicates from pg1, which is neither a replica nor the writable primary (role promoted)');
  });

  it('pg2 is excluded when pg1 does not answer its REST API', () => {
    const state = withMember(batman(), 'pg1', { observed: { at: 1, reachable: false } });
    expect(exclusion(state, 'replica', 'pg2')?.reason).toBe('upstream');
  });

  it('follows chains and names each hop', () => {
    const state = cluster(
      [
        member('a', { role: 'primary' }),
        member('b', { state: 'stopped' }),
        member('c', { tags: tags({ replicatefrom: 'b' }) }),
        member('d', { tags: tags({ replicatefrom: 'c' }) }),
      ],
      { leader: 'a', writablePrimary: 'a' },
    );
    expect(exclusion(state, 'replica', 'd')?.detail).toBe('replicates from c, which replicates from b, which is not running (state: stopped)');
  });

  it('survives a replicatefrom loop', () => {
    const state = cluster([member('x', { tags: tags({ replicatefrom: 'y' }) }), member('y', { tags: tags({ replicatefrom: 'x' }) })]);
    expect(exclusion(state, 'replica', 'x')?.detail).toBe('replicates from y, which replicates from x, which is part of a replicatefrom loop');
  });

  it('still needs its own lag to qualify', () => {
    const state = withMember(batman(), 'pg2', { lagBytes: 20 * MB });
    expect(exclusion(state, 'replica', 'pg2', { maxLagBytes: 16 * MB })?.reason).toBe('lag');
  });
});

describe('lag limit', () => {
  it('excludes replicas lagging beyond maxLagBytes, with sizes in the detail', () => {
    const state = withMember(batman(), 'pg1', { lagBytes: 20 * MB });
    expect(exclusion(state, 'replica', 'pg1', { maxLagBytes: 16 * MB })).toEqual({
      member: 'pg1',
      reason: 'lag',
      detail: 'lags 20 MB (max 16 MB)',
    });
  });

  it('keeps replicas exactly at the limit', () => {
    const state = withMember(batman(), 'pg1', { lagBytes: 16 * MB });
    expect(eligible(state, 'replica', { maxLagBytes: 16 * MB })).toContain('pg1');
  });

  it('treats unknown lag as qualifying when no limit is set', () => {
    const state = withMember(batman(), 'pg1', { lagBytes: undefined });
    expect(eligible(state, 'replica')).toContain('pg1');
  });

  it('excludes unknown lag when a limit is set', () => {
    const state = withMember(batman(), 'pg1', { lagBytes: undefined });
    expect(exclusion(state, 'replica', 'pg1', { maxLagBytes: 16 * MB })).toEqual({
      member: 'pg1',
      reason: 'lag',
      detail: 'has unknown lag (max 16 MB)',
    });
  });
});

describe('Patroni 4 quorum mode (synchronous_mode: quorum, sync key {leader, quorum, sync_standby: "pg1,pg2"})', () => {
  const quorumState = () => batman({ config: { ...batman().config, synchronousMode: 'quorum' }, sync: { leader: 'pg0', standbys: ['pg1', 'pg2'], quorum: 1 } });

  it("sync takes no one: under ANY 1 (pg1,pg2) no single voter is sure to hold the last commit (Patroni's /sync is 503 everywhere)", () => {
    const decision = chooseBackends(quorumState(), request('sync'), memory());
    expect(decision.candidates).toEqual([]);
    expect(decision.reason).toMatch(/synchronous_mode is quorum: no single standby is sure to hold the last commit/);
  });

  it('quorum takes the voters, read-only-quorum the primary and the voters, async the others', () => {
    const state = quorumState();
    expect(eligible(state, 'quorum')).toEqual(['pg1', 'pg2']);
    expect(eligible(state, 'read-only-quorum')).toEqual(['pg0', 'pg1', 'pg2']);
    expect(eligible(state, 'async')).toEqual([]);
    expect(exclusion(state, 'async', 'pg2')?.detail).toBe('is a quorum standby');
    const oneVoter = batman({ config: { ...batman().config, synchronousMode: 'quorum' }, sync: { leader: 'pg0', standbys: ['pg1'], quorum: 0 } });
    expect(eligible(oneVoter, 'async')).toEqual(['pg2']);
  });

  it("read-only-sync is the primary alone in quorum mode, as Patroni's /read-only-sync", () => {
    expect(eligible(quorumState(), 'read-only-sync')).toEqual(['pg0']);
  });

  it('quorum takes no one in plain synchronous mode, and says why', () => {
    const decision = chooseBackends(batman(), request('quorum'), memory());
    expect(decision.candidates).toEqual([]);
    expect(decision.reason).toMatch(/synchronous_mode is on, not quorum/);
  });
});

describe('routes leader and read-only-sync (Patroni /leader, /read-only-sync)', () => {
  it('read-only-sync takes the primary and the sync standby', () => {
    expect(eligible(batman(), 'read-only-sync')).toEqual(['pg0', 'pg1']);
  });

  it('leader takes the writable primary, or the standby leader in a standby cluster, and never a replica', () => {
    expect(eligible(batman(), 'leader')).toEqual(['pg0']);
    const standby = cluster([member('s0', { role: 'standby_leader', lagBytes: undefined }), member('s1')], { leader: 's0' });
    expect(eligible(standby, 'leader')).toEqual(['s0']);
    expect(eligible(batman({ writablePrimary: undefined }), 'leader')).toEqual([]);
  });
});
