import { describe, expect, it } from 'vitest';
import { buildState, type StateInputs } from '../../../src/topology/build-state.js';
import { decideDcsLoss } from '../../../src/topology/dcs-loss-policy.js';
import { parseClusterKeys } from '../../../src/topology/parse-cluster-keys.js';
import type { MemberObservation } from '../../../src/topology/cluster-state.js';
import { memberByName } from '../../../src/topology/cluster-state.js';

const member = (role: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ conn_url: 'postgres://127.0.0.1:5432/postgres', api_url: 'http://127.0.0.1:8008/patroni', state: 'running', role, ...extra });

const keys = new Map([
  ['leader', 'p'],
  ['members/p', member('master', { xlog_location: 1000 })],
  ['members/r', member('replica', { xlog_location: 900 })],
  ['config', JSON.stringify({ ttl: 30 })],
]);

function inputs(over: Partial<StateInputs> = {}): StateInputs {
  return {
    scope: 's',
    namespace: '/service/',
    parsed: parseClusterKeys(keys),
    observations: new Map(),
    memberKeyChangedAt: new Map([
      ['p', 1000],
      ['r', 1000],
    ]),
    lastDcsContact: 10_000,
    stale: false,
    now: 10_000,
    observationMaxAgeMs: 3000,
    dcsLossWrites: 'ttl',
    ...over,
  };
}

const obs = (at: number, fields: Partial<MemberObservation>): MemberObservation => ({ at, reachable: true, ...fields });

describe('writablePrimary and the REST prober', () => {
  it('is the leader when its member key says master/running and REST is silent', () => {
    expect(buildState(inputs(), undefined).state.writablePrimary).toBe('p');
  });

  it('is cleared when a REST answer newer than the member key says replica or demoted', () => {
    for (const role of ['replica', 'demoted'] as const) {
      const s = buildState(inputs({ observations: new Map([['p', obs(9_500, { role, state: 'running' })]]) }), undefined).state;
      expect(s.writablePrimary, role).toBeUndefined();
      expect(memberByName(s, 'p')!.observed!.role).toBe(role);
    }
  });

  it('ignores a REST answer older than the member key (the key changed since) or too old', () => {
    const older = inputs({ observations: new Map([['p', obs(900, { role: 'replica' })]]) });
    expect(buildState(older, undefined).state.writablePrimary).toBe('p');
    const stale = inputs({ memberKeyChangedAt: new Map(), observations: new Map([['p', obs(5_000, { role: 'replica' })]]) });
    expect(buildState(stale, undefined).state.writablePrimary).toBe('p');
  });

  it('does not treat an unreachable REST API as a contradiction (the leader key decides)', () => {
    const s = buildState(inputs({ observations: new Map([['p', { at: 9_900, reachable: false, error: 'ECONNREFUSED' }]]) }), undefined).state;
    expect(s.writablePrimary).toBe('p');
  });

  it('never names a promoted, non-running or invalid leader', () => {
    for (const value of [member('promoted'), member('master', { state: 'starting' }), member('master', { timeline: 'x' })]) {
      const k = new Map(keys);
      k.set('members/p', value);
      expect(buildState(inputs({ parsed: parseClusterKeys(k) }), undefined).state.writablePrimary, value).toBeUndefined();
    }
  });
});

describe('lag', () => {
  it('uses DCS positions without REST, REST positions when both are fresh', () => {
    expect(memberByName(buildState(inputs(), undefined).state, 'r')).toMatchObject({ lagBytes: 100, lagSource: 'dcs' });
    const live = inputs({
      observations: new Map([
        ['p', obs(9_900, { role: 'primary', walPosition: 5_000 })],
        ['r', obs(9_900, { role: 'replica', walPosition: 1_500, replayPaused: true })],
      ]),
    });
    expect(memberByName(buildState(live, undefined).state, 'r')).toMatchObject({ lagBytes: 3_500, lagSource: 'rest' });
  });
});

describe('generation', () => {
  it('stays when only timestamps move, bumps when something changes', () => {
    const first = buildState(inputs(), undefined).state;
    expect(first.generation).toBe(1);
    const again = buildState(inputs({ now: 11_000, lastDcsContact: 11_000 }), first);
    expect(again.changes).toEqual([]);
    expect(again.state.generation).toBe(1);
    const staleNow = buildState(inputs({ now: 12_000, stale: true }), first);
    expect(staleNow.state.generation).toBe(2);
    expect(staleNow.changes).toContain('DCS unreachable: state is stale');
  });
});

describe('DCS loss', () => {
  it('keeps the primary within ttl of the last contact, then clears it (policy ttl)', () => {
    expect(buildState(inputs({ stale: true, now: 39_000 }), undefined).state.writablePrimary).toBe('p');
    const after = buildState(inputs({ stale: true, now: 40_001 }), undefined).state;
    expect(after.writablePrimary).toBeUndefined();
    expect(after.leader).toBe('p');
    expect(after.members).toHaveLength(2); // reads keep going
  });

  it('decides each policy', () => {
    const base = { stale: true, lastDcsContact: 0, ttlSeconds: 30 } as const;
    expect(decideDcsLoss({ ...base, policy: 'ttl', stale: false, now: 100_000 }).allowWrites).toBe(true);
    expect(decideDcsLoss({ ...base, policy: 'refuse', now: 1 }).allowWrites).toBe(false);
    expect(decideDcsLoss({ ...base, policy: 'ttl', now: 29_999 }).allowWrites).toBe(true);
    expect(decideDcsLoss({ ...base, policy: 'ttl', now: 30_000 })).toMatchObject({ allowWrites: false, reason: expect.stringContaining('ttl 30 s') });
    expect(decideDcsLoss({ ...base, policy: 'rest', now: 60_000, primaryObservation: obs(59_500, { role: 'primary' }) }).allowWrites).toBe(true);
    expect(decideDcsLoss({ ...base, policy: 'rest', now: 60_000, primaryObservation: obs(59_500, { role: 'replica' }) }).allowWrites).toBe(false);
    expect(decideDcsLoss({ ...base, policy: 'rest', now: 60_000 }).allowWrites).toBe(false);
  });

  it('with policy rest keeps the primary past ttl only while REST confirms it', () => {
    const confirm = inputs({
      stale: true,
      now: 60_000,
      dcsLossWrites: 'rest',
      memberKeyChangedAt: new Map(),
      observations: new Map([['p', obs(59_500, { role: 'primary', state: 'running' })]]),
    });
    expect(buildState(confirm, undefined).state.writablePrimary).toBe('p');
    const silent = inputs({ stale: true, now: 60_000, dcsLossWrites: 'rest' });
    expect(buildState(silent, undefined).state.writablePrimary).toBeUndefined();
  });
});

describe('a probe asked before the member key changed', () => {
  it('does not overrule the key even if its answer arrived later', () => {
    const late = inputs({ observations: new Map([['p', { at: 1_100, askedAt: 900, reachable: true, role: 'replica' as const }]]) });
    expect(buildState(late, undefined).state.writablePrimary).toBe('p');
    const asked = inputs({ observations: new Map([['p', { at: 1_100, askedAt: 1_050, reachable: true, role: 'replica' as const }]]) });
    expect(buildState({ ...asked, now: 1_200 }, undefined).state.writablePrimary).toBeUndefined();
  });
});
