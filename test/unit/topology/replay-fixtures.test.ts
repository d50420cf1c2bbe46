import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../../src/topology/cluster-state.js';
import { memberByName } from '../../../src/topology/cluster-state.js';
import { replayFixture, type ReplayedStep } from './fixture-replay.js';

const at = (steps: ReplayedStep[], tMs: number): ClusterState => {
  const hits = steps.filter((s) => s.step.tMs === tMs);
  if (hits.length === 0) throw new Error(`no fixture step at ${tMs} ms`);
  return hits[hits.length - 1]!.state;
};

describe('switchover.jsonl (Patroni 3.0.2, pg0 -> pg1)', () => {
  const steps = replayFixture('switchover.jsonl');

  it('starts with pg0 as the writable primary, pg1 as sync standby and pg2 tagged', () => {
    const s = steps[0]!.state;
    expect(s.leader).toBe('pg0');
    expect(s.writablePrimary).toBe('pg0');
    expect(s.sync.standbys).toEqual(['pg1']);
    expect(s.config).toMatchObject({ ttl: 30, loopWait: 10, synchronousMode: true, pause: false, maximumLagOnFailover: 1048576 });
    expect(s.members.map((m) => [m.name, m.role, m.host, m.port])).toEqual([
      ['pg0', 'primary', '127.0.0.1', 5433],
      ['pg1', 'replica', '127.0.0.1', 5434],
      ['pg2', 'replica', '127.0.0.1', 5435],
    ]);
    const pg2 = memberByName(s, 'pg2')!;
    expect(pg2.tags).toMatchObject({ nofailover: true, nosync: true, noloadbalance: false, nostream: false, replicatefrom: 'pg1' });
    expect(pg2.tags.raw).toEqual({ nofailover: 'true', nosync: 'true', replicatefrom: 'pg1', datacenter: 'dc2' });
    expect(memberByName(s, 'pg1')!.tags.raw).toEqual({ datacenter: 'dc1' });
    expect(s.problems).toEqual([]);
    expect(s.switchoverPending).toBe(false);
    expect(s.leaderOptime).toBe(198178752);
    expect(s.timelineHistory).toHaveLength(2);
  });

  it('flags the switchover request while the failover key holds one', () => {
    expect(at(steps, 1459).switchoverPending).toBe(true);
    expect(at(steps, 1459).failover).toEqual({ leader: 'pg0', candidate: 'pg1' });
    expect(at(steps, 1459).writablePrimary).toBe('pg0');
    expect(at(steps, 2880).switchoverPending).toBe(false);
  });

  it('has no writable primary from the leader key deletion until pg1 says master', () => {
    for (const { step, state } of steps) {
      if (step.tMs < 2736) expect(state.writablePrimary, `at ${step.tMs} ms`).toBe('pg0');
      else if (step.tMs < 4184) expect(state.writablePrimary, `at ${step.tMs} ms`).toBeUndefined();
      else expect(state.writablePrimary, `at ${step.tMs} ms`).toBe('pg1');
    }
    expect(at(steps, 2736).leader).toBeUndefined();
    // The leader key names pg1 while its member key still says replica: not writable yet.
    expect(at(steps, 2832).leader).toBe('pg1');
    expect(memberByName(at(steps, 2980), 'pg1')!.role).toBe('replica');
    expect(memberByName(at(steps, 2790), 'pg0')).toMatchObject({ role: 'demoted', state: 'stopping' });
  });

  it('reads {"sync_standby":null} as no standbys, then pg0 once Patroni picks it', () => {
    expect(at(steps, 2930).sync).toEqual({ leader: 'pg1', standbys: [] });
    expect(at(steps, 24280).sync.standbys).toEqual([]);
    expect(at(steps, 26236).sync).toEqual({ leader: 'pg1', standbys: ['pg0'] });
  });

  it('bumps the generation only when something changed, with words for it', () => {
    const unchanged = steps.find((s) => s.step.tMs === 1548)!; // status rewritten with the same optime
    const before = steps[steps.indexOf(unchanged) - 1]!;
    expect(unchanged.changes).toEqual([]);
    expect(unchanged.state.generation).toBe(before.state.generation);
    const leaderGone = steps.find((s) => s.step.tMs === 2736)!;
    expect(leaderGone.state.generation).toBe(steps[steps.indexOf(leaderGone) - 1]!.state.generation + 1);
    expect(leaderGone.changes).toContain('leader pg0 -> (none)');
    expect(leaderGone.changes).toContain('writable primary pg0 -> (none)');
    const promoted = steps.find((s) => s.step.tMs === 4184)!;
    expect(promoted.changes).toContain('pg1 role replica -> primary');
    expect(promoted.changes).toContain('writable primary (none) -> pg1');
  });

  it('computes DCS lag from the leader position', () => {
    const s = at(steps, 4873); // pg2 at 198184336, pg1 (leader) at 198184280, status 198184280
    expect(memberByName(s, 'pg2')).toMatchObject({ lagBytes: 0, lagSource: 'dcs' });
    expect(memberByName(s, 'pg0')!.lagBytes).toBeUndefined(); // no WAL fields while stopped
  });
});

describe('crash-failover.jsonl (Patroni 3.0.2, pg1 killed, pg0 takes over)', () => {
  const steps = replayFixture('crash-failover.jsonl');

  it('keeps pg1 writable until its leader key expires, then waits for pg0 to say master', () => {
    expect(steps[0]!.state.writablePrimary).toBe('pg1');
    for (const { step, state } of steps) {
      if (step.tMs < 30794) expect(state.writablePrimary, `at ${step.tMs} ms`).toBe('pg1');
      else if (step.tMs < 32137) expect(state.writablePrimary, `at ${step.tMs} ms`).toBeUndefined();
      else expect(state.writablePrimary, `at ${step.tMs} ms`).toBe('pg0');
    }
    expect(memberByName(at(steps, 30794), 'pg1')).toBeUndefined();
    expect(at(steps, 30844).leader).toBe('pg0');
    expect(at(steps, 30892).sync.standbys).toEqual([]);
  });

  it('names the removed member in the changes', () => {
    const removal = steps.filter((s) => s.step.tMs === 30794).at(-1)!;
    expect(removal.changes).toContain('member pg1 removed');
  });
});
