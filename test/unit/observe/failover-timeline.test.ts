import { describe, expect, it } from 'vitest';
import { FailoverTimeline, type TimelineStep } from '../../../src/observe/failover-timeline.js';
import type { ClusterState } from '../../../src/topology/cluster-state.js';
import { replayFixture } from '../topology/fixture-replay.js';

interface Replayed {
  tMs: number;
  previous: ClusterState | undefined;
  state: ClusterState;
}

/** The recorded keys turned into snapshots, as the follower would publish them (changes only). */
function replay(name: string): Replayed[] {
  return replayFixture(name)
    .filter((r) => r.changes.length > 0)
    .map((r) => ({ tMs: r.step.tMs, previous: r.previous, state: r.state }));
}

const describeStep = (s: TimelineStep): string => (s.type === 'phase' ? `${s.phase}@${s.ms}` : s.type === 'ended' ? `ended:${s.episode.outcome}` : `started:${s.episode.trigger}`);

describe('FailoverTimeline on the recorded switchover (pg0 -> pg1)', () => {
  const snapshots = replay('switchover.jsonl');
  const timeline = new FailoverTimeline();
  const steps: TimelineStep[] = [];
  for (const s of snapshots) steps.push(...timeline.observeState(s.previous, s.state, s.tMs));

  it('starts when the failover key appears and times the demote notice, fencing and the new primary from there', () => {
    // pg0's member key without xlog_location at 1600 ms: Patroni 3.0.2 began the demote.
    expect(steps.map(describeStep)).toEqual(['started:failover-key', `demote_begun@${1600 - 1459}`, `old_primary_fenced@${2736 - 1459}`, `new_primary_usable@${4184 - 1459}`]);
    expect(timeline.episode()).toMatchObject({ startedAt: 1459, oldPrimary: 'pg0', newPrimary: 'pg1' });
    expect(timeline.episode()!.outcome).toBeUndefined();
  });

  it('ends at the first session on the new primary, ignoring sessions elsewhere', () => {
    expect(timeline.sessionStarted('pg2', 4300)).toEqual([]);
    expect(timeline.sessionStarted('pg1', 4250).map(describeStep)).toEqual([`first_session_routed@${4250 - 1459}`, 'ended:complete']);
    expect(timeline.episode()).toMatchObject({ outcome: 'complete', endedAt: 4250 });
    expect(timeline.sessionStarted('pg1', 4400)).toEqual([]);
  });
});

describe('FailoverTimeline on the recorded crash of the leader (pg1 -> pg0)', () => {
  it('starts when the leader key expires and ends with pg0 usable', () => {
    const timeline = new FailoverTimeline();
    const steps: TimelineStep[] = [];
    for (const s of replay('crash-failover.jsonl')) steps.push(...timeline.observeState(s.previous, s.state, s.tMs));
    const episode = timeline.episode()!;
    expect(episode.oldPrimary).toBe('pg1');
    expect(episode.newPrimary).toBe('pg0');
    expect(steps[0]!.type).toBe('started');
    expect(episode.phases.new_primary_usable).toBeGreaterThanOrEqual(episode.phases.old_primary_fenced!);
    expect(steps.filter((s) => s.type === 'phase').map((s) => (s.type === 'phase' ? s.phase : ''))).toEqual(['old_primary_fenced', 'new_primary_usable']);
  });
});

describe('FailoverTimeline edge cases', () => {
  const snapshots = replay('switchover.jsonl');
  const before = snapshots[0]!.state;
  const withKey = snapshots.find((s) => s.state.switchoverPending)!.state;

  it('calls a withdrawn failover request cancelled and records no phase', () => {
    const timeline = new FailoverTimeline();
    const started = timeline.observeState(before, withKey, 100);
    const withdrawn = timeline.observeState(withKey, { ...withKey, switchoverPending: false, failover: undefined, generation: withKey.generation + 1 }, 900);
    expect([...started, ...withdrawn].map(describeStep)).toEqual(['started:failover-key', 'ended:cancelled']);
  });

  it('does not take the old primary, writable again for a moment during its shutdown, for the new one', () => {
    const timeline = new FailoverTimeline();
    const lost = { ...withKey, writablePrimary: undefined, generation: withKey.generation + 1 };
    const back = { ...withKey, generation: withKey.generation + 2 };
    const promoted = { ...withKey, leader: 'pg1', writablePrimary: 'pg1', switchoverPending: false, failover: undefined, generation: withKey.generation + 3 };
    const steps = [
      ...timeline.observeState(before, withKey, 100),
      ...timeline.observeState(withKey, lost, 300),
      ...timeline.observeState(lost, back, 500),
      ...timeline.observeState(back, promoted, 1600),
      ...timeline.sessionStarted('pg0', 1650),
      ...timeline.sessionStarted('pg1', 1700),
    ];
    expect(steps.map(describeStep)).toEqual(['started:failover-key', 'old_primary_fenced@200', 'new_primary_usable@1500', 'first_session_routed@1600', 'ended:complete']);
  });

  it('calls it cancelled when the old primary writes again with no switchover pending', () => {
    const timeline = new FailoverTimeline();
    const lost = { ...before, writablePrimary: undefined, generation: before.generation + 1 };
    const back = { ...before, generation: before.generation + 2 };
    const steps = [...timeline.observeState(before, lost, 100), ...timeline.observeState(lost, back, 400)];
    expect(steps.map(describeStep)).toEqual(['started:primary-lost', 'old_primary_fenced@0', 'ended:cancelled']);
  });

  it('counts a fencing of the old primary as the fenced phase when it comes first', () => {
    const timeline = new FailoverTimeline();
    timeline.observeState(before, withKey, 1000);
    expect(timeline.sessionsFenced('pg2', 1100)).toEqual([]);
    expect(timeline.sessionsFenced('pg0', 1200).map(describeStep)).toEqual(['old_primary_fenced@200']);
  });

  it('closes an episode that never found a primary as expired', () => {
    const timeline = new FailoverTimeline({ maxEpisodeMs: 5000 });
    timeline.observeState(before, { ...before, leader: undefined, writablePrimary: undefined, generation: before.generation + 1 }, 0);
    expect(timeline.sessionStarted('pg1', 6000).map(describeStep)).toEqual(['ended:expired']);
  });

  it('ignores the first snapshot', () => {
    expect(new FailoverTimeline().observeState(undefined, before, 0)).toEqual([]);
  });
});
