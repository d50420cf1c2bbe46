/**
 * When sessions on the old primary stop sending new work in a planned switchover: from the
 * `failover` key on for a Patroni that does not announce its demote, and, for Patroni 3 and 4,
 * from the member key its HA loop rewrites without `xlog_location` as the demote begins.
 */
import { describe, expect, it } from 'vitest';
import { switchoverAway } from '../../../../src/proxy/move/move-target.js';
import { announcesDemote, demoteBegun } from '../../../../src/routing/demote-signal.js';
import type { ClusterState, Member } from '../../../../src/topology/cluster-state.js';
import { batman, member } from '../../routing/cluster-factory.js';
import { replayFixture } from '../../topology/fixture-replay.js';

const NOW = Date.parse('2026-11-26T12:00:00Z');

function withPrimary(over: Partial<Member>, state: Partial<ClusterState> = {}): ClusterState {
  const base = batman({ switchoverPending: true, failover: { leader: 'pg0', candidate: 'pg1' }, ...state });
  return { ...base, members: base.members.map((m) => (m.name === 'pg0' ? { ...m, ...over } : m)) };
}

describe('the demote notice in a member key', () => {
  it('is a running key with no WAL position, from Patroni 3 or later', () => {
    expect(demoteBegun(member('pg0', { role: 'primary', walPosition: 1 }))).toBe(false);
    expect(demoteBegun(member('pg0', { role: 'primary' }))).toBe(true);
    // A stopped member has no position either: that is no demote beginning.
    expect(demoteBegun(member('pg0', { role: 'primary', state: 'stopping' }))).toBe(false);
    expect(announcesDemote(member('pg0', { version: '3.0.2' }))).toBe(true);
    expect(announcesDemote(member('pg0', { version: '4.0.7' }))).toBe(true);
    expect(announcesDemote(member('pg0', { version: '2.1.7' }))).toBe(false);
    expect(announcesDemote(member('pg0', { version: 'unknown' }))).toBe(false);
    expect(announcesDemote(member('pg0'))).toBe(false);
  });
});

describe('sessions on the old primary pause', () => {
  it('for Patroni 3 and 4 only once the demote has begun, not at the failover key', () => {
    for (const version of ['3.0.2', '4.0.7']) {
      expect(switchoverAway(withPrimary({ version, walPosition: 100 }), 'pg0', NOW)).toBe(false);
      expect(switchoverAway(withPrimary({ version }), 'pg0', NOW)).toBe(true);
    }
  });

  it('at the failover key for a Patroni that does not say its version, or an older one', () => {
    expect(switchoverAway(withPrimary({ walPosition: 100 }), 'pg0', NOW)).toBe(true);
    expect(switchoverAway(withPrimary({ version: '2.1.7', walPosition: 100 }), 'pg0', NOW)).toBe(true);
  });

  it('never without a due switchover away from that member', () => {
    expect(switchoverAway(withPrimary({ version: '3.0.2' }, { switchoverPending: false, failover: undefined }), 'pg0', NOW)).toBe(false);
    expect(switchoverAway(withPrimary({ version: '3.0.2' }), 'pg1', NOW)).toBe(false);
    expect(switchoverAway(withPrimary({ version: '3.0.2' }, { failover: { leader: 'pg2', candidate: 'pg1' } }), 'pg0', NOW)).toBe(false);
    const later = { failover: { leader: 'pg0', candidate: 'pg1', scheduledAt: '2026-11-26T13:00:00+00:00' } };
    expect(switchoverAway(withPrimary({ version: '3.0.2' }, later), 'pg0', NOW)).toBe(false);
    expect(switchoverAway(withPrimary({ version: '3.0.2' }, later), 'pg0', Date.parse('2026-11-26T13:00:00Z'))).toBe(true);
  });

  it('in the recorded Patroni 3.0.2 switchover: not at the failover key (1459 ms), at pg0’s rewritten key (1600 ms), before its leader key goes (2736 ms)', () => {
    const steps = replayFixture('switchover.jsonl');
    const at = (tMs: number): ClusterState => steps.filter((s) => s.step.tMs <= tMs).at(-1)!.state;
    expect(at(1459).switchoverPending).toBe(true);
    expect(switchoverAway(at(1459), 'pg0', NOW)).toBe(false);
    expect(switchoverAway(at(1599), 'pg0', NOW)).toBe(false);
    expect(switchoverAway(at(1600), 'pg0', NOW)).toBe(true);
    expect(at(2735).writablePrimary).toBe('pg0');
    expect(switchoverAway(at(2735), 'pg0', NOW)).toBe(true);
  });
});
