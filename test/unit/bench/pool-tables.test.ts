import { describe, expect, it } from 'vitest';
import { judgePoolTargets, poolSection } from '../../../bench/pool-tables.js';
import type { FailoverRound, PoolOutcome } from '../../../bench/results.js';
import { judgeWrites } from '../../../bench/write-attempts.js';

function pool(over: Partial<PoolOutcome> = {}): PoolOutcome {
  return {
    size: 10,
    reopened: 0,
    attempts: 500,
    successes: 500,
    errors: 0,
    errorsByCode: {},
    errorsByCause: {},
    sampleMessages: {},
    idleErrors: 0,
    idleErrorsByCode: {},
    lateErrors: 0,
    firstErrorSentMs: Number.NaN,
    lastErrorSentMs: Number.NaN,
    longestWaitMs: 1400,
    longestWaitSentMs: 20,
    longestGapMs: 1400,
    gapFromMs: 0,
    gapToMs: 1400,
    recovered: true,
    lostAcknowledged: 0,
    writtenTwice: 0,
    ...over,
  };
}

function round(kind: FailoverRound['kind'], oracleGap: number, pools: FailoverRound['pools']): FailoverRound {
  const outage = judgeWrites(
    [
      { startedAt: 0, at: 1000, step: 'insert', ok: true },
      { startedAt: 0, at: 1000 + oracleGap, step: 'insert', ok: true },
    ],
    1001,
  );
  return {
    kind,
    round: 1,
    from: 'pg0',
    to: 'pg1',
    leaderChangeMs: 2000,
    outages: { oracle: outage, haproxy: outage, router: outage },
    lostAcknowledged: { oracle: 0, haproxy: 0, router: 0 },
    ...(pools ? { pools } : {}),
  };
}

describe("the pooled writers' report", () => {
  it('judges the router pool against the oracle and states HAProxy beside it', () => {
    const switchovers = [
      round('switchover', 1300, {
        router: pool({ longestWaitMs: 1450, moves: { sessionsAtEvent: 10, moved: 10, notMoved: {}, moveWaitMeanMs: 900 } }),
        haproxy: pool({ errors: 12, errorsByCode: { '57P01': 10, '25006': 2 }, longestWaitMs: 6000 }),
      }),
    ];
    const crashes = [
      round('crash', 31_000, {
        router: pool({ errors: 2, idleErrors: 0, longestWaitMs: 31_100 }),
        haproxy: pool({ errors: 40, idleErrors: 30 }),
      }),
    ];
    const checks = judgePoolTargets(switchovers, crashes, true, true);
    expect(checks.map((c) => [c.target, c.met])).toEqual([
      ['switchover, pooled writer: 0 client errors through the router', true],
      ["switchover, pooled writer: longest client wait within 200 ms of the oracle's write gap", true],
      ['crash, pooled writer: 0 errors for sessions idle at the crash, through the router', true],
    ]);
    expect(checks[0]?.measured).toBe("0 in 1 round(s); HAProxy's pool: 12");
    expect(checks[1]?.measured).toBe("worst 150 ms over; HAProxy's pool: worst 4700 ms over (its requests failed instead of waiting: its write gap worst 100 ms over)");
    expect(checks[2]?.measured).toBe("0 (of 2 errors in all) in 1 round(s); HAProxy's pool: 30");
  });

  it('misses the wait target by what the router pool waited beyond it', () => {
    const checks = judgePoolTargets([round('switchover', 1300, { router: pool({ longestWaitMs: 1700 }) })], [], true, false);
    expect(checks[1]).toMatchObject({ met: false, measured: 'worst 400 ms over' });
  });

  it('renders a summary and a row per round and proxy, and nothing for results that predate the pools', () => {
    const rounds = [
      round('switchover', 1300, {
        router: pool({ moves: { sessionsAtEvent: 10, moved: 9, notMoved: { timeout: 1 }, moveWaitMeanMs: 800 } }),
        haproxy: pool({ errors: 3, errorsByCode: { '57P01': 3 }, firstErrorSentMs: 400, lastErrorSentMs: 900 }),
      }),
    ];
    const text = poolSection(rounds, { size: 10, intervalMs: 10, user: 'scramuser', login: 'SCRAM.', routerConfig: '' }).join('\n');
    expect(text).toContain('### Pooled writers');
    expect(text).toContain('9 of 10 (mean wait 800 ms)');
    expect(text).toContain('timeout×1');
    expect(text).toContain('3 (sent 400 to 900 ms)');
    expect(poolSection([round('switchover', 1300, undefined)], undefined)).toEqual([]);
    expect(judgePoolTargets([round('switchover', 1300, undefined)], [], true, false)).toEqual([]);
  });
});
