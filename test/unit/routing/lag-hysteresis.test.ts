import { describe, expect, it } from 'vitest';
import { chooseBackends } from '../../../src/routing/choose-backends.js';
import { LagHysteresis } from '../../../src/routing/lag-hysteresis.js';
import { batman, MB, memory, names, request, withMember } from './cluster-factory.js';

const rules = { maxLagBytes: MB, recoveryMs: 10_000, fenceAfterMs: 30_000 };
const lagging = (lagBytes: number | undefined) => withMember(batman(), 'pg2', { lagBytes });

describe('LagHysteresis', () => {
  it('one high sample: out for new connections until 10 s under the limit, never fenced', () => {
    const lag = new LagHysteresis(rules);
    lag.observe(lagging(0), 0);
    lag.observe(lagging(5 * MB), 1_000);
    expect(lag.fenceDue(1_000)).toEqual(new Set());
    lag.observe(lagging(0), 1_500);
    expect([...lag.held(1_500).keys()]).toEqual(['pg2']);
    expect(lag.held(5_000).get('pg2')).toBe('was over max_lag 1 MB until 3.5 s ago (used again after 10 s under it)');
    expect(lag.held(11_500).size).toBe(0);
    expect(lag.fenceDue(60_000)).toEqual(new Set());
    expect(lag.nextFenceAt()).toBeUndefined();
  });

  it('routing keeps a held replica out of a max_lag listener with the reason, and lets it back after recovery', () => {
    const lag = new LagHysteresis(rules);
    lag.observe(lagging(5 * MB), 0);
    lag.observe(lagging(0), 2_000);
    const state = lagging(0);
    const held = chooseBackends(state, request('replica', { maxLagBytes: MB, lagHeld: lag.held(3_000), now: 3_000 }), memory());
    expect(names(held.candidates)).toEqual(['pg1']);
    expect(held.excluded.find((e) => e.member === 'pg2')).toMatchObject({ reason: 'lag', detail: expect.stringContaining('was over max_lag 1 MB until 1 s ago') });
    const back = chooseBackends(state, request('replica', { maxLagBytes: MB, lagHeld: lag.held(12_000), now: 12_000 }), memory());
    expect(names(back.candidates).sort()).toEqual(['pg1', 'pg2']);
  });

  it('lag that lasts: fenced once it has been over the limit for fenceAfter, and says when', () => {
    const lag = new LagHysteresis(rules);
    lag.observe(lagging(2 * MB), 1_000);
    lag.observe(lagging(3 * MB), 20_000);
    expect(lag.nextFenceAt()).toBe(31_000);
    expect(lag.fenceDue(30_999)).toEqual(new Set());
    expect(lag.fenceDue(31_000)).toEqual(new Set(['pg2']));
  });

  it('unknown lag (no measurement) starts no fencing clock; fenceAfter undefined never fences', () => {
    const lag = new LagHysteresis(rules);
    lag.observe(lagging(undefined), 0);
    expect(lag.fenceDue(100_000)).toEqual(new Set());
    const never = new LagHysteresis({ ...rules, fenceAfterMs: undefined });
    never.observe(lagging(5 * MB), 0);
    expect(never.fenceDue(1e9)).toEqual(new Set());
  });
});
