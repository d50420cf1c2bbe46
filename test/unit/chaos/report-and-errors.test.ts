import { describe, expect, it } from 'vitest';
import type { FaultRecord } from '../../../chaos/faults/fault-context.js';
import { tallyByCause, type ClientError } from '../../../chaos/load/client-errors.js';
import { parsePgbenchErrorLine } from '../../../chaos/load/pgbench-errors.js';
import { countFaultsByKind, countViolations, perMinute, type ChaosReport } from '../../../chaos/report/chaos-report.js';
import { renderChaosReport } from '../../../chaos/report/render-report.js';
import { classifyClientError } from '../../../test/support/client-error-cause.js';

describe("pgbench's error lines", () => {
  it("reads the SQLSTATE back from the server's words", () => {
    expect(parsePgbenchErrorLine('pgbench: error: client 3 script 0 aborted in command 5 query 0: ERROR:  cannot execute UPDATE in a read-only transaction')).toMatchObject({
      code: '25006',
      classified: { cause: 'read-only-write' },
    });
    expect(parsePgbenchErrorLine('pgbench: error: client 0 script 0 aborted in command 4 query 0: FATAL:  terminating connection: pg0 is no longer the primary')).toMatchObject({
      code: '57P01',
      classified: { cause: 'router-fencing', member: 'pg0' },
    });
    expect(parsePgbenchErrorLine('pgbench: error: connection to server at "127.0.0.1", port 5000 failed: FATAL:  sorry, too many clients already')).toMatchObject({
      code: '53300',
    });
  });

  it("calls a cut connection lost, and skips lines that are no client's error", () => {
    // pgbench's own words when the server's socket closed under a client.
    expect(parsePgbenchErrorLine('pgbench: error: client 2 aborted in command 1 (SQL) of script 0; perhaps the backend died while processing')).toMatchObject({
      classified: { cause: 'connection-lost' },
    });
    expect(parsePgbenchErrorLine('pgbench: error: client 2 script 0 aborted in command 1 query 0: ERROR:  relation "x" does not exist')).toMatchObject({
      classified: { cause: 'other' },
    });
    expect(parsePgbenchErrorLine('pgbench: error: client 1 script 0 aborted in command 3 query 0: server closed the connection unexpectedly')).toMatchObject({
      classified: { cause: 'connection-lost' },
    });
    expect(parsePgbenchErrorLine('progress: 5.0 s, 30.0 tps, lat 2.1 ms stddev 0.5, 0 failed')).toBeUndefined();
    expect(parsePgbenchErrorLine('pgbench: error: Run was aborted; the above results are incomplete.')).toBeUndefined();
  });
});

const error = (source: string, code: string | undefined, message: string): ClientError => ({
  at: 0,
  source,
  listener: 'primary',
  ...(code === undefined ? {} : { code }),
  message,
  classified: classifyClientError(code, message),
});

describe('the report', () => {
  const faults: FaultRecord[] = [
    { index: 1, kind: 'switchover', description: 'switchover (candidate #0)', startedAt: 0, endedAt: 4_000, recoveredAt: 6_000, target: 'pg0', notes: ['pg0 -> pg1'] },
    { index: 2, kind: 'leader-crash', description: 'leader-crash (3 held probes)', startedAt: 10_000, endedAt: 40_000, notes: [], failed: 'patronictl failed' },
    { index: 3, kind: 'switchover', description: 'switchover (candidate #1)', startedAt: 50_000, endedAt: 54_000, notes: [] },
  ];

  it('counts faults by kind, injected or not', () => {
    const byKind = countFaultsByKind(faults);
    expect(byKind.switchover).toEqual({ injected: 2, failed: 0 });
    expect(byKind['leader-crash']).toEqual({ injected: 0, failed: 1 });
    expect(byKind['garbage-clients']).toEqual({ injected: 0, failed: 0 });
  });

  it('tallies client errors by cause, most first', () => {
    const tally = tallyByCause([
      error('w', undefined, 'Connection terminated unexpectedly'),
      error('w', '57P01', 'terminating connection due to administrator command'),
      error('p', undefined, 'Connection terminated unexpectedly'),
    ]);
    expect(tally.map((t) => [t.cause, t.count])).toEqual([
      ['connection-lost', 2],
      ['member-shutdown', 1],
    ]);
    expect(tally[0]?.codes).toEqual([{ code: 'none', count: 2 }]);
  });

  it('shows the figures the closing note asks for', () => {
    const report: ChaosReport = {
      seed: 4242,
      minutes: 15,
      startedAt: '2026-12-01T12:00:00.000Z',
      endedAt: '2026-12-01T12:17:00.000Z',
      chaosSeconds: 900,
      totalSeconds: 1020,
      setup: ['three members'],
      faults,
      faultsByKind: countFaultsByKind(faults),
      clientErrors: { total: 1, byCause: tallyByCause([error('w', undefined, 'Connection terminated unexpectedly')]), bySource: { w: 1 }, list: [] },
      load: [{ name: 'writer/primary', listener: 'primary', done: 900, unit: 'writes', errors: 1 }],
      writes: [{ writer: 'writer/primary', acknowledged: 900, rows: 900, duplicates: 0, lostInCrashTails: 0 }],
      checks: { placementJudged: 900, placementUnjudged: 0, fencingJudged: 0, fencingUnjudged: 0, gaugeCheckpoints: 3, gaugeCheckpointsUnjudged: 0 },
      violations: [{ invariant: 'untrue-gauges', at: 0, detail: 'held_connections{listener=probe} is 2 at a quiet moment' }],
      resources: {
        baseline: { rssKb: 102_400, fds: 31 },
        peak: { rssKb: 153_600, fds: 80 },
        final: { rssKb: 122_880, fds: 33 },
        warmRssKb: 150_000,
        warmUpMinutes: 3,
        rssLimitKb: 199_152,
        fdTolerance: 12,
        liveHeapKb: { baseline: 150_000, final: 152_000, limit: 166_384 },
        heapGrowth: [{ name: '(code)', kb: 1_500, count: 900 }],
        perMinute: perMinute(
          [
            { at: 0, rssKb: 102_400, fds: 31 },
            { at: 30_000, rssKb: 110_000, fds: 40 },
            { at: 61_000, rssKb: 153_600, fds: 80 },
          ],
          0,
        ),
      },
      backends: { leaked: [], expected: { pg0: { Patroni: 1 } } },
      router: { exit: 'exited with code 0 on SIGTERM', logLines: 10, errorLines: 0, warnLines: 1 },
      notes: [],
    };
    const text = renderChaosReport(report);
    expect(text).toContain('# Chaos run, seed 4242');
    expect(text).toContain('**Invariant violations: 1.**');
    expect(text).toContain('| switchover | 2 | 0 |');
    expect(text).toContain('| connection-lost | 1 | none×1 |');
    expect(text).toContain('| untrue-gauges |');
    expect(text).toContain('| peak | 150.0 | 80 |');
    expect(text).toContain('| final (load stopped) | 120.0 | 33 |');
    expect(text).toContain('Leaked backends: 0.');
    expect(text).toContain('RSS MB by minute: 0: 100.0, 1: 150.0.');
    expect(text).toContain('Live heap after a full GC (V8 heap snapshots): 146.5 MB at the baseline, 148.4 MB at the end, limit 162.5 MB. Grew most: (code) +1500 kB (+900).');
    expect(text).toContain('NOT INJECTED: patronictl failed');
    expect(countViolations(report.violations)['untrue-gauges']).toBe(1);
    expect(countViolations(report.violations)['router-exited']).toBe(0);
  });
});
