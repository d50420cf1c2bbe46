import { describe, expect, it } from 'vitest';
import { describePlan, FAULT_KINDS, FaultPlanner, type FaultPlan } from '../../../chaos/faults/fault-plan.js';
import { garbagePayload, slowPayload } from '../../../chaos/faults/hostile-payloads.js';
import { parseRunOptions } from '../../../chaos/run-options.js';
import { SeededRandom } from '../../../chaos/seeded-random.js';

const plans = (seed: number, n: number): FaultPlan[] => {
  const planner = new FaultPlanner(new SeededRandom(seed).fork('plan'));
  return Array.from({ length: n }, () => planner.next());
};

describe('the seeded fault plan', () => {
  it('is the same for the same seed, and another for another seed', () => {
    expect(plans(42, 30)).toEqual(plans(42, 30));
    expect(plans(42, 30)).not.toEqual(plans(43, 30));
  });

  it('meets every kind once in each round of seven', () => {
    const drawn = plans(9, 28);
    for (let round = 0; round < 4; round++) {
      expect(
        drawn
          .slice(round * 7, round * 7 + 7)
          .map((p) => p.kind)
          .sort(),
      ).toEqual([...FAULT_KINDS].sort());
    }
    expect(drawn.map((p) => p.index)).toEqual(Array.from({ length: 28 }, (_, i) => i + 1));
  });

  it('draws parameters within their bounds', () => {
    for (const p of plans(123, 140)) {
      expect(p.gapMs).toBeGreaterThanOrEqual(5_000);
      expect(p.gapMs).toBeLessThanOrEqual(20_000);
      if (p.kind === 'etcd-restart') expect(p.downMs).toBeLessThanOrEqual(8_000);
      if (p.kind === 'slow-clients') expect(p.clients).toBeGreaterThanOrEqual(20);
      if (p.kind === 'replay-pause') expect([0, 1]).toContain(p.replicaIndex);
      expect(describePlan(p)).toMatch(new RegExp(`^${p.kind}`));
    }
  });

  it('forks streams that do not depend on how much another part drew', () => {
    const a = new SeededRandom(5);
    const b = new SeededRandom(5);
    for (let i = 0; i < 17; i++) a.next();
    expect(a.fork('fault 3 payloads').bytes(16)).toEqual(b.fork('fault 3 payloads').bytes(16));
    expect(a.fork('fault 3 payloads').bytes(16)).not.toEqual(b.fork('fault 4 payloads').bytes(16));
  });

  it('replays the same garbage for the same stream', () => {
    const one = Array.from(
      { length: 20 },
      (
        (r) => () =>
          garbagePayload(r)
      )(new SeededRandom(77)),
    );
    const two = Array.from(
      { length: 20 },
      (
        (r) => () =>
          garbagePayload(r)
      )(new SeededRandom(77)),
    );
    expect(one).toEqual(two);
    const slow = slowPayload(new SeededRandom(1));
    expect(slow.bytes.length).toBeGreaterThan(0);
  });

  it('keeps int() within its bounds', () => {
    const r = new SeededRandom(0);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(r.int(3, 6));
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
    expect(() => r.int(2, 1)).toThrow();
  });
});

describe('run options', () => {
  it('takes --seed and --minutes, or draws a seed', () => {
    expect(parseRunOptions(['--seed', '17', '--minutes=3'], () => 99)).toEqual({ seed: 17, minutes: 3, seedGiven: true });
    expect(parseRunOptions([], () => 99)).toEqual({ seed: 99, minutes: 15, seedGiven: false });
  });

  it('refuses what it does not understand', () => {
    expect(() => parseRunOptions(['--seed', '-1'], () => 1)).toThrow(/--seed/);
    expect(() => parseRunOptions(['--minutes', '0'], () => 1)).toThrow(/--minutes/);
    expect(() => parseRunOptions(['--seed'], () => 1)).toThrow(/needs a value/);
    expect(() => parseRunOptions(['--fast'], () => 1)).toThrow(/unknown argument/);
  });
});
