import { describe, expect, it } from 'vitest';
import { explainListener } from '../../../src/routing/choose-backends.js';
import { batman, request, withMember } from './cluster-factory.js';

describe('explainListener', () => {
  it('gives every member a verdict, sorted by name', () => {
    const e = explainListener(batman(), request('sync'));
    expect(e.route).toBe('sync');
    expect(e.eligible).toEqual(['pg1']);
    expect(e.members).toEqual([
      { member: 'pg0', eligible: false, reason: 'role', detail: 'is the primary' },
      { member: 'pg1', eligible: true },
      { member: 'pg2', eligible: false, reason: 'not-sync', detail: 'is not a synchronous standby' },
    ]);
    expect(e.reason).toBeUndefined();
    expect(e.fallback).toBeUndefined();
  });

  it('includes the fallback route and the refusal sentence', () => {
    const state = withMember(batman({ sync: { leader: 'pg0', standbys: [] } }), 'pg2', { state: 'stopped' });
    const e = explainListener(state, request('sync', { fallback: 'async' }));
    expect(e.eligible).toEqual([]);
    expect(e.reason).toBe('no sync standby in cluster batman: sync key lists none');
    expect(e.fallback?.route).toBe('async');
    expect(e.fallback?.eligible).toEqual(['pg1']);
    expect(e.fallback?.members.find((m) => m.member === 'pg2')).toEqual({
      member: 'pg2',
      eligible: false,
      reason: 'state',
      detail: 'is not running (state: stopped)',
    });
  });
});
