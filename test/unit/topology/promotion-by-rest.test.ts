/**
 * The new leader is writable as soon as its own REST API shows postgres out of recovery, not
 * when Patroni's next loop rewrites its member key: the recorded switchover replayed with
 * synthetic `GET /patroni` answers slipped in between the etcd events.
 */
import { describe, expect, it } from 'vitest';
import { buildState, type StateInputs } from '../../../src/topology/build-state.js';
import { parseClusterKeys } from '../../../src/topology/parse-cluster-keys.js';
import type { ClusterState, MemberObservation } from '../../../src/topology/cluster-state.js';
import { xlogShape } from '../../../src/topology/member-prober.js';
import { applyStep, loadFixture, type FixtureStep } from './fixture-replay.js';

/** A REST answer that arrives at `tMs`, to a question sent `latencyMs` earlier. */
interface RestStep {
  tMs: number;
  type: 'rest';
  member: string;
  observation: MemberObservation;
}

type Step = FixtureStep | RestStep;

const PRIMARY_XLOG = { role: 'primary', state: 'running', timeline: 4, walPosition: 198_184_000, xlogShape: 'primary' } as const;

function rest(tMs: number, member: string, fields: Partial<MemberObservation>, latencyMs = 20): RestStep {
  return { tMs, type: 'rest', member, observation: { at: tMs, askedAt: tMs - latencyMs, reachable: true, ...fields } };
}

interface Replayed {
  step: Step;
  state: ClusterState;
}

/** Replays etcd events and REST answers in time order, tracking key change times as the follower does. */
function replay(extra: readonly Step[], over: Partial<StateInputs> = {}): Replayed[] {
  const steps: Step[] = [...loadFixture('switchover.jsonl'), ...extra].sort((a, b) => a.tMs - b.tMs);
  const keys = new Map<string, string>();
  const observations = new Map<string, MemberObservation>();
  const memberKeyChangedAt = new Map<string, number>();
  let leaderKeyChangedAt: number | undefined;
  let previous: ClusterState | undefined;
  const out: Replayed[] = [];
  for (const step of steps) {
    if (step.type === 'rest') observations.set(step.member, step.observation);
    else {
      const before = new Map(keys);
      applyStep(keys, step);
      for (const k of new Set([...before.keys(), ...keys.keys()])) {
        if (before.get(k) === keys.get(k)) continue;
        if (k === 'leader') leaderKeyChangedAt = step.tMs;
        const m = /^members\/(.+)$/.exec(k);
        if (m !== null) memberKeyChangedAt.set(m[1]!, step.tMs);
      }
    }
    const inputs: StateInputs = {
      scope: 'batman',
      namespace: '/service/',
      parsed: parseClusterKeys(keys),
      observations,
      memberKeyChangedAt,
      leaderKeyChangedAt,
      lastDcsContact: step.tMs,
      stale: false,
      now: step.tMs,
      observationMaxAgeMs: 3000,
      dcsLossWrites: 'ttl',
      ...over,
    };
    const built = buildState(inputs, previous);
    out.push({ step, state: built.state });
    previous = built.state;
  }
  return out;
}

/** When pg1 first became the writable primary in a replay. */
const pg1WritableFrom = (steps: readonly Replayed[]): number | undefined => steps.find((s) => s.state.writablePrimary === 'pg1')?.step.tMs;

describe('promotion seen on the leader REST API (switchover.jsonl: leader=pg1 at 2832, member key master at 4184)', () => {
  it('without REST answers, pg1 is writable only from its member key (4184)', () => {
    expect(pg1WritableFrom(replay([]))).toBe(4184);
  });

  it('a running primary with xlog.location, asked after the leader key changed, makes pg1 writable at 3300', () => {
    const steps = replay([rest(3100, 'pg1', { role: 'replica', state: 'running', xlogShape: 'replica' }), rest(3300, 'pg1', PRIMARY_XLOG)]);
    expect(pg1WritableFrom(steps)).toBe(3300);
    // And it stays writable through the member key catching up.
    for (const s of steps.filter((x) => x.step.tMs >= 3300 && x.step.tMs < 10_000)) expect(s.state.writablePrimary, `at ${s.step.tMs}`).toBe('pg1');
    // Never two writable primaries: pg0 was cleared at the leader key deletion, long before.
    const seen = steps.map((s) => s.state.writablePrimary);
    expect(seen.indexOf(undefined)).toBeLessThan(seen.indexOf('pg1'));
  });

  it('ignores an answer to a question asked before the leader key changed, even if it arrived after', () => {
    // Asked at 2800 (leader key deleted, pg1 not yet leader), answered at 2900.
    expect(pg1WritableFrom(replay([rest(2900, 'pg1', PRIMARY_XLOG, 100)]))).toBe(4184);
  });

  it("ignores an answer asked before the member's own key last changed (2980)", () => {
    expect(pg1WritableFrom(replay([rest(3000, 'pg1', PRIMARY_XLOG, 50)]))).toBe(4184);
    expect(pg1WritableFrom(replay([rest(3000, 'pg1', PRIMARY_XLOG, 10)]))).toBe(3000);
  });

  it('does not promote a member the leader key does not name', () => {
    // pg2 claims to be a primary (it is not the leader); pg1 in the leaderless gap.
    const steps = replay([rest(3300, 'pg2', PRIMARY_XLOG), rest(2800, 'pg1', PRIMARY_XLOG, 10)]);
    expect(steps.some((s) => s.state.writablePrimary === 'pg2')).toBe(false);
    expect(steps.find((s) => s.step.tMs === 2800)!.state.writablePrimary).toBeUndefined();
    expect(pg1WritableFrom(steps)).toBe(4184);
  });

  it("ignores Patroni's promoted role, a replica-shaped xlog, no xlog, and a non-running state", () => {
    const not: Array<Partial<MemberObservation>> = [
      { ...PRIMARY_XLOG, role: 'promoted' },
      { ...PRIMARY_XLOG, xlogShape: 'replica' },
      { role: 'primary', state: 'running' }, // Patroni's fallback answer when its query fails
      { ...PRIMARY_XLOG, state: 'starting' },
      { ...PRIMARY_XLOG, reachable: false },
    ];
    for (const fields of not) expect(pg1WritableFrom(replay([rest(3300, 'pg1', fields)])), JSON.stringify(fields)).toBe(4184);
  });

  it('an answer that ages out (observationMaxAgeMs) is a measurement gap, not a contradiction: pg1 stays writable', () => {
    // The answer at 3300 has aged out by the next event (4080) with a 500 ms limit.
    const steps = replay([rest(3300, 'pg1', PRIMARY_XLOG)], { observationMaxAgeMs: 500 });
    expect(steps.find((s) => s.step.tMs === 3300)!.state.writablePrimary).toBe('pg1');
    expect(steps.find((s) => s.step.tMs === 4080)!.state.writablePrimary).toBe('pg1');
  });

  it('after the leader key goes and comes back (a new term), an answer from the earlier term publishes nothing', () => {
    // Published at 3300, leader key deleted at 3500 and pg1 again at 3600: the 3300 answer was
    // asked before the new term began, so pg1 waits for its member key (4184).
    const steps = replay([rest(3300, 'pg1', PRIMARY_XLOG), { tMs: 3500, type: 'delete', key: 'leader' }, { tMs: 3600, type: 'put', key: 'leader', value: 'pg1' }]);
    expect(steps.find((s) => s.step.tMs === 3500)!.state.writablePrimary).toBeUndefined();
    expect(steps.find((s) => s.step.tMs === 3600)!.state.writablePrimary).toBeUndefined();
    expect(pg1WritableFrom(steps.filter((s) => s.step.tMs >= 3500))).toBe(4184);
  });

  it('still obeys the DCS-loss policy', () => {
    expect(pg1WritableFrom(replay([rest(3300, 'pg1', PRIMARY_XLOG)], { dcsLossWrites: 'refuse', stale: true }))).toBeUndefined();
  });

  it('is off when the leader key change time is unknown', () => {
    const steps = replay([rest(3300, 'pg1', PRIMARY_XLOG)]);
    const keys = new Map<string, string>();
    for (const s of steps) if (s.step.type !== 'rest' && s.step.tMs <= 3300) applyStep(keys, s.step);
    const inputs: StateInputs = {
      scope: 'batman',
      namespace: '/service/',
      parsed: parseClusterKeys(keys),
      observations: new Map([['pg1', rest(3300, 'pg1', PRIMARY_XLOG).observation]]),
      memberKeyChangedAt: new Map([['pg1', 2980]]),
      lastDcsContact: 3300,
      stale: false,
      now: 3300,
      observationMaxAgeMs: 3000,
      dcsLossWrites: 'ttl',
    };
    expect(buildState(inputs, undefined).state.writablePrimary).toBeUndefined();
    expect(buildState({ ...inputs, leaderKeyChangedAt: 2832 }, undefined).state.writablePrimary).toBe('pg1');
  });
});

/** pg1's member key as the recording has it at 2980, with another role or state. */
function pg1Key(tMs: number, role: string, state = 'running'): FixtureStep {
  const recorded = loadFixture('switchover.jsonl').find((s) => s.type === 'put' && s.key === 'members/pg1' && s.tMs === 2980);
  if (recorded?.type !== 'put') throw new Error('the recording lost its 2980 pg1 key');
  return { tMs, type: 'put', key: 'members/pg1', value: JSON.stringify({ ...(JSON.parse(recorded.value) as object), role, state }) };
}

describe('once published from REST, an older view does not take the new primary back', () => {
  // Asked at 2890: after the leader key (2832) and pg1's key (2784) changed, so it counts.
  const published = rest(2900, 'pg1', PRIMARY_XLOG, 10);
  const writableAt = (steps: readonly Replayed[], tMs: number): string | undefined => [...steps].reverse().find((s) => s.step.tMs <= tMs)?.state.writablePrimary;

  it("stays writable through the member key's unchanged rewrite (replica at 2980) and Patroni's transient promoted", () => {
    const steps = replay([published, pg1Key(3050, 'promoted'), pg1Key(3120, 'promoted')]);
    expect(pg1WritableFrom(steps)).toBe(2900);
    for (const s of steps.filter((x) => x.step.tMs >= 2900 && x.step.tMs < 10_000)) expect(s.state.writablePrimary, `at ${s.step.tMs}`).toBe('pg1');
  });

  it('is taken back by a key that had moved on and says replica again, by demoted, or by a state other than running', () => {
    expect(writableAt(replay([published, pg1Key(3050, 'promoted'), pg1Key(3100, 'replica')]), 3100)).toBeUndefined();
    expect(writableAt(replay([published, pg1Key(5000, 'replica')]), 5000)).toBeUndefined();
    expect(writableAt(replay([published, pg1Key(3050, 'demoted')]), 3050)).toBeUndefined();
    expect(writableAt(replay([published, pg1Key(3050, 'promoted', 'stopping')]), 3050)).toBeUndefined();
  });

  it('is taken back by a REST answer asked after the key changed that says replica', () => {
    const steps = replay([published, rest(3100, 'pg1', { role: 'replica', state: 'running', xlogShape: 'replica' }, 20)]);
    expect(writableAt(steps, 3000)).toBe('pg1');
    expect(writableAt(steps, 3100)).toBeUndefined();
  });

  it('never outlives the leader key', () => {
    const steps = replay([published, { tMs: 3200, type: 'delete', key: 'leader' }]);
    expect(writableAt(steps, 3200)).toBeUndefined();
  });
});

describe('xlogShape of a GET /patroni answer', () => {
  it('is primary for xlog.location, replica for received/replayed, undefined otherwise', () => {
    expect(xlogShape({ role: 'master', xlog: { location: 5 } })).toBe('primary');
    expect(xlogShape({ role: 'replica', xlog: { received_location: 5, replayed_location: 4, paused: false } })).toBe('replica');
    expect(xlogShape({ role: 'replica', xlog: { replayed_location: null } })).toBe('replica');
    expect(xlogShape({ role: 'master', state: 'unknown' })).toBeUndefined();
    expect(xlogShape({ xlog: 'x' })).toBeUndefined();
    expect(xlogShape(null)).toBeUndefined();
  });
});
