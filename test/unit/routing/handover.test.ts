import { describe, expect, it } from 'vitest';
import { chooseBackends, explainListener } from '../../../src/routing/choose-backends.js';
import { handoverInProgress, scheduledSwitchoverDueIn } from '../../../src/routing/handover.js';
import { SCHEDULED_ACTION_LEAD_MS } from '../../../src/routing/scheduled-time.js';
import { batman, memory, names, request, withMember } from './cluster-factory.js';

const NOW = Date.parse('2026-11-26T12:00:00Z');

describe('a switchover away from the primary holds new write sessions', () => {
  it('holds while a due request names the primary as leader, with the candidate in the reason', () => {
    const state = batman({ switchoverPending: true, failover: { leader: 'pg0', candidate: 'pg1' } });
    const decision = chooseBackends(state, request('primary', { now: NOW }), memory());
    expect(decision.candidates).toEqual([]);
    expect(decision.reason).toBe('no primary in cluster batman: switchover in progress (pg0 is handing over to pg1)');
    expect(explainListener(state, request('primary', { now: NOW })).excluded).toContainEqual(expect.objectContaining({ member: 'pg0', reason: 'switchover' }));
  });

  it('holds for a failover request without a leader field (patronictl failover)', () => {
    expect(handoverInProgress(batman({ failover: { candidate: 'pg1' } }), NOW)).toContain('handing over to pg1');
  });

  it('does not hold for a switchover scheduled later, and does once it is due', () => {
    const state = batman({ failover: { leader: 'pg0', candidate: 'pg1', scheduledAt: '2026-11-26T13:00:00+00:00' } });
    expect(names(chooseBackends(state, request('primary', { now: NOW }), memory()).candidates)).toEqual(['pg0']);
    expect(chooseBackends(state, request('primary', { now: Date.parse('2026-11-26T13:00:01Z') }), memory()).candidates).toEqual([]);
  });

  it('calls a scheduled switchover due a little before its time (the clocks may differ), and an unscheduled or unreadable one due at once', () => {
    const at = '2026-11-26T13:00:00+00:00';
    const state = batman({ failover: { leader: 'pg0', candidate: 'pg1', scheduledAt: at } });
    const justBefore = Date.parse(at) - SCHEDULED_ACTION_LEAD_MS;
    expect(scheduledSwitchoverDueIn(state.failover, justBefore - 1)).toBe(1);
    expect(handoverInProgress(state, justBefore - 1)).toBeUndefined();
    expect(handoverInProgress(state, justBefore)).toContain('handing over to pg1');
    expect(scheduledSwitchoverDueIn(batman({ failover: { candidate: 'pg1' } }).failover, NOW)).toBeUndefined();
    expect(scheduledSwitchoverDueIn({ scheduledAt: 'tomorrow-ish' }, NOW)).toBeUndefined();
  });

  it('ignores a request naming another leader, or the primary itself as candidate', () => {
    expect(names(chooseBackends(batman({ failover: { leader: 'pg2', candidate: 'pg1' } }), request('primary', { now: NOW }), memory()).candidates)).toEqual(['pg0']);
    expect(names(chooseBackends(batman({ failover: { candidate: 'pg0' } }), request('primary', { now: NOW }), memory()).candidates)).toEqual(['pg0']);
  });

  it('leaves read routes alone, and a read listener falling back to the primary waits too', () => {
    const state = batman({ failover: { leader: 'pg0', candidate: 'pg1' } });
    expect(names(chooseBackends(state, request('replica', { now: NOW }), memory()).candidates)).toEqual(['pg1', 'pg2']);
    // pg1 stopped: pg2, which replicates from it, goes too.
    const noReplica = chooseBackends(withMember(state, 'pg1', { state: 'stopped' }), request('replica', { now: NOW, fallback: 'primary' }), memory());
    expect(noReplica.candidates).toEqual([]);
    expect(noReplica.reason).toContain('no primary either: switchover in progress (pg0 is handing over to pg1)');
  });
});
