import { describe, expect, it } from 'vitest';
import { crashSeenAt } from '../../../bench/failover-rounds.js';
import { parseMoveMetrics, sessionMoves, tallyPool } from '../../../bench/pool-tally.js';
import type { PoolAttempt } from '../../../bench/pool-writer.js';

const ok = (seq: number, startedAt: number, at: number, rowId = seq): PoolAttempt => ({ seq, startedAt, at, step: 'insert', ok: true, rowId });
const failed = (seq: number, startedAt: number, at: number, code: string, message: string): PoolAttempt => ({ seq, startedAt, at, step: 'insert', ok: false, code, message });

describe('the pooled writer tallied over a round', () => {
  const event = 10_000;

  it('files errors by SQLSTATE and by cause, and tells errors of sessions idle at the event apart', () => {
    const attempts = [
      ok(1, 9_990, 9_992),
      // In flight when the member died (sent before it was gone).
      failed(2, 9_995, 10_020, '57P01', 'terminating connection due to administrator command'),
      // Sent after: its session was idle at the event.
      failed(3, 10_100, 10_110, 'connection-terminated', 'Connection terminated unexpectedly'),
      failed(4, 13_000, 13_001, '57P01', 'terminating connection: pg0 is no longer the primary'),
      ok(5, 13_100, 14_600),
    ];
    const outcome = tallyPool(attempts, { eventAt: event, idleFrom: 10_050, size: 3, opened: 5 });
    expect(outcome.errors).toBe(3);
    expect(outcome.reopened).toBe(2);
    expect(outcome.errorsByCode).toEqual({ '57P01': 2, 'connection-terminated': 1 });
    expect(outcome.errorsByCause).toEqual({ 'member-shutdown': 1, 'connection-lost': 1, 'router-fencing': 1 });
    expect(outcome.idleErrors).toBe(2);
    expect(outcome.idleErrorsByCode).toEqual({ 'connection-terminated': 1, '57P01': 1 });
    expect(outcome.lateErrors).toBe(1);
    expect(outcome.firstErrorSentMs).toBe(-5);
    expect(outcome.lastErrorSentMs).toBe(3_000);
    expect(outcome.sampleMessages['member-shutdown']).toMatch(/administrator command/);
  });

  it('takes the longest wait over every request, ok or not, with when it was sent', () => {
    const outcome = tallyPool([ok(1, 9_000, 9_002), ok(2, 10_010, 11_400), failed(3, 10_020, 10_030, 'ECONNRESET', 'read ECONNRESET'), ok(4, 11_500, 11_502)], {
      eventAt: event,
      idleFrom: event,
      size: 2,
      opened: 2,
    });
    expect(outcome.longestWaitMs).toBe(1_390);
    expect(outcome.longestWaitSentMs).toBe(10);
    expect(outcome.longestGapMs).toBe(11_400 - 9_002);
    expect(outcome.recovered).toBe(true);
  });

  it('counts acknowledged rows missing and request numbers written twice, when the table was read', () => {
    const attempts = [ok(1, 9_000, 9_001, 101), ok(2, 9_010, 9_011, 102), ok(3, 10_010, 10_011, 103)];
    const rows = {
      ids: new Set([101, 103, 104]),
      seqCounts: new Map([
        [1, 1],
        [3, 2],
      ]),
    };
    const outcome = tallyPool(attempts, { eventAt: event, idleFrom: event, size: 1, opened: 1 }, rows);
    expect(outcome.lostAcknowledged).toBe(1);
    expect(outcome.writtenTwice).toBe(1);
    expect(tallyPool(attempts, { eventAt: event, idleFrom: event, size: 1, opened: 1 }).lostAcknowledged).toBeNaN();
  });
});

describe("the router's move counters", () => {
  const metrics = (moved: number, timeout: number, waitSum: number, waitCount: number) =>
    [
      '# HELP patroni_router_sessions Open sessions',
      'patroni_router_sessions{listener="primary",member="pg0"} 10',
      'patroni_router_sessions{listener="primary",member="pg1"} 0',
      'patroni_router_sessions{listener="replicas",member="pg1"} 4',
      `patroni_router_sessions_moved_total{listener="primary"} ${moved}`,
      `patroni_router_sessions_not_moved_total{listener="primary",reason="timeout"} ${timeout}`,
      'patroni_router_sessions_not_moved_total{listener="replicas",reason="timeout"} 9',
      `patroni_router_session_move_wait_seconds_sum{listener="primary"} ${waitSum}`,
      `patroni_router_session_move_wait_seconds_count{listener="primary"} ${waitCount}`,
      'patroni_router_session_move_wait_seconds_bucket{le="0.1",listener="primary"} 3',
    ].join('\n');

  it('reads one listener and takes the round as after minus before', () => {
    const before = parseMoveMetrics(metrics(10, 1, 2, 10), 'primary');
    expect(before).toEqual({ sessions: 10, moved: 10, notMoved: { timeout: 1 }, moveWaitSumSeconds: 2, moveWaitCount: 10 });
    const after = parseMoveMetrics(metrics(18, 3, 3.2, 18), 'primary');
    const moves = sessionMoves(before, after);
    expect(moves).toMatchObject({ sessionsAtEvent: 10, moved: 8, notMoved: { timeout: 2 } });
    expect(moves.moveWaitMeanMs).toBeCloseTo(150);
  });

  it('says nothing of a move wait when nothing moved', () => {
    const reading = parseMoveMetrics('', 'primary');
    expect(sessionMoves(reading, reading)).toEqual({ sessionsAtEvent: 0, moved: 0, notMoved: {}, moveWaitMeanMs: Number.NaN });
  });
});

describe('when a crash was first seen', () => {
  it('is the earliest failure of any writer after the event', () => {
    const lists = [
      [ok(1, 9_000, 9_001), failed(2, 9_500, 9_600, '25006', 'before the event'), failed(3, 10_010, 10_031, 'connection-terminated', 'cut')],
      [failed(4, 10_020, 10_025, 'ECONNRESET', 'cut'), ok(5, 10_030, 40_000)],
    ];
    expect(crashSeenAt(lists, 10_000)).toBe(10_025);
    expect(crashSeenAt([[ok(1, 10_001, 10_002)]], 10_000)).toBeUndefined();
  });
});
