import { describe, expect, it } from 'vitest';
import { EventLog } from '../../../src/observe/event-log.js';
import type { ClusterState } from '../../../src/topology/cluster-state.js';
import { manualClock, type ManualClock } from '../../support/manual-clock.js';

const clock = (start = 1000): ManualClock => manualClock(start);

describe('EventLog', () => {
  it('keeps only the newest `capacity` events, newest first, with increasing seq', () => {
    const c = clock();
    const log = new EventLog({ capacity: 3, now: c.now });
    for (let i = 1; i <= 5; i++) {
      log.reloaded(`reload ${i}`);
      c.advance(10);
    }
    expect(log.size).toBe(3);
    expect(log.recent().map((e) => [e.seq, e.message, e.at])).toEqual([
      [5, 'reload 5', 1040],
      [4, 'reload 4', 1030],
      [3, 'reload 3', 1020],
    ]);
    expect(log.recent(1).map((e) => e.message)).toEqual(['reload 5']);
  });

  it('folds identical events in a row into one with a count', () => {
    const c = clock();
    const log = new EventLog({ now: c.now });
    for (let i = 0; i < 50; i++) {
      log.refused({ listener: 'primary', kind: 'no_candidate', sqlstate: '57P03', reason: 'primary: no primary in cluster batman: leader election in progress' });
      c.advance(1);
    }
    log.fenced({ listener: 'primary', member: 'pg0', reason: 'pg0 is no longer the writable primary' });
    const [fenced, refused] = log.recent();
    expect(fenced).toMatchObject({ kind: 'fenced', member: 'pg0', count: 1 });
    expect(refused).toMatchObject({ kind: 'refused', listener: 'primary', count: 50, at: 1000, lastAt: 1049 });
    expect(refused!.message).toContain('57P03');
  });

  it('records hold timeouts once (not again as a refusal) and ignores holds that proceeded', () => {
    const log = new EventLog();
    log.holdEnded({ listener: 'primary', waitedMs: 100, outcome: 'proceeded' });
    log.holdEnded({ listener: 'primary', waitedMs: 30_000, outcome: 'timeout' });
    log.refused({ listener: 'primary', kind: 'hold_timeout', sqlstate: '57P03', reason: 'primary: no primary in cluster batman (waited 30.0 s)' });
    expect(log.recent().map((e) => e.kind)).toEqual(['hold-timeout']);
    expect(log.recent()[0]!.message).toBe('held connection gave up after 30 s without a usable member');
  });

  it('turns topology change lines into events, leaving out lag and optime heartbeats', () => {
    const log = new EventLog();
    const next = { scope: 'batman' } as ClusterState;
    log.observeState({
      previous: next,
      next,
      changes: [
        'leader pg0 -> (none)',
        'pg1 lag 0 (rest) -> 4096 (rest)',
        'leader optime 1 -> 2',
        'pg0 role primary -> demoted',
        'pg0 REST reachable true -> false',
        'DCS unreachable: state is stale',
        'failover request (none) -> {"leader":"pg0"}',
      ],
    });
    expect(
      log
        .recent()
        .reverse()
        .map((e) => [e.kind, e.cluster, e.message]),
    ).toEqual([
      ['leader', 'batman', 'leader pg0 -> (none)'],
      ['topology', 'batman', 'pg0 role primary -> demoted'],
      ['probe', 'batman', 'pg0 REST reachable true -> false'],
      ['dcs', 'batman', 'DCS unreachable: state is stale'],
      ['failover', 'batman', 'failover request (none) -> {"leader":"pg0"}'],
    ]);
  });

  it('words failover steps for the timeline', () => {
    const log = new EventLog();
    const episode = { startedAt: 0, trigger: 'failover-key' as const, oldPrimary: 'pg0', newPrimary: 'pg1', phases: {} };
    log.failoverStep('batman', { type: 'started', episode });
    log.failoverStep('batman', { type: 'phase', phase: 'new_primary_usable', ms: 1234, episode });
    expect(log.recent().map((e) => e.message)).toEqual(['new primary pg1 usable after 1.23 s', 'failover started: failover key set (primary was pg0)']);
  });
});
