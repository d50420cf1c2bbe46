import { describe, expect, it } from 'vitest';
import { judgeExactlyOnce, TAIL_SLACK_MS } from '../../../chaos/invariants/acknowledged-writes.js';
import { judgeFencedPrimarySessions } from '../../../chaos/invariants/primary-fencing.js';
import { judgeReadOnlyErrors, judgeWritePlacement, type PlacedWrite } from '../../../chaos/invariants/write-placement.js';
import type { ClientError } from '../../../chaos/load/client-errors.js';
import { roleOf, type PrimarySample } from '../../../chaos/observe/primary-timeline.js';
import { classifyClientError } from '../../../test/support/client-error-cause.js';

/** Samples every 250 ms from t0 to t1, the leader key and roles given by `who(t)`. */
function samples(t0: number, t1: number, who: (t: number) => { key: string | null | undefined; roles: Record<string, PrimarySample['roles'][string]> }): PrimarySample[] {
  const out: PrimarySample[] = [];
  for (let t = t0; t <= t1; t += 250) out.push({ startedAt: t, at: t + 20, leaderKey: who(t).key, roles: who(t).roles });
  return out;
}

const steady = (key: string) => () => ({
  key,
  roles: { pg0: key === 'pg0' ? ('primary' as const) : ('replica' as const), pg1: key === 'pg1' ? ('primary' as const) : ('replica' as const) },
});

function write(member: string | undefined, sent: number, at: number, seq = 1): PlacedWrite {
  return { writer: 'writer/primary', seq, sent, at, member, port: 5000 };
}

describe('write placement', () => {
  const timeline = samples(0, 20_000, (t) => (t < 10_000 ? steady('pg0')() : steady('pg1')()));

  it('passes writes the leader key named their member around', () => {
    const verdict = judgeWritePlacement([write('pg0', 1_000, 1_010), write('pg1', 12_000, 12_005), write('pg0', 9_950, 10_100)], timeline);
    expect(verdict).toEqual({ judged: 3, unjudged: 0, violations: [] });
  });

  it('finds a write acknowledged by a member no sample around it named', () => {
    const verdict = judgeWritePlacement([write('pg0', 15_000, 15_010, 7), write(undefined, 2_000, 2_010, 8)], timeline);
    expect(verdict.violations.map((v) => v.invariant)).toEqual(['write-on-non-primary', 'write-on-non-primary']);
    expect(verdict.violations[0]?.detail).toMatch(/seq 7 was acknowledged by pg0 .* named pg1/);
    expect(verdict.violations[1]?.detail).toMatch(/port 5000 \(no member\)/);
  });

  it('leaves a write unjudged when etcd did not answer around it', () => {
    const blind = samples(0, 5_000, () => ({ key: undefined, roles: {} }));
    expect(judgeWritePlacement([write('pg1', 2_000, 2_010)], blind)).toEqual({ judged: 0, unjudged: 1, violations: [] });
  });

  it('counts any 25006 a client saw', () => {
    const errors: ClientError[] = [
      {
        at: 1,
        source: 'pgbench/primary',
        listener: 'primary',
        code: '25006',
        message: 'cannot execute UPDATE in a read-only transaction',
        classified: classifyClientError('25006', 'x'),
      },
      {
        at: 2,
        source: 'writer/primary',
        listener: 'primary',
        message: 'Connection terminated unexpectedly',
        classified: classifyClientError(undefined, 'Connection terminated unexpectedly'),
      },
    ];
    expect(judgeReadOnlyErrors(errors)).toHaveLength(1);
  });
});

describe('fenced sessions on the primary', () => {
  const fenced = (at: number, member: string, listener = 'primary'): ClientError => {
    const message = `terminating connection: ${member} is no longer the primary`;
    return { at, source: 'writer/primary', listener, code: '57P01', message, classified: classifyClientError('57P01', message) };
  };

  it('is a violation when the member was and stayed the primary', () => {
    const timeline = samples(0, 20_000, steady('pg0'));
    const verdict = judgeFencedPrimarySessions([fenced(8_000, 'pg0')], timeline, new Set(['primary']));
    expect(verdict.judged).toBe(1);
    expect(verdict.violations[0]?.invariant).toBe('healthy-primary-session-closed');
  });

  it('is no violation when the leader key moved around it, or on a read listener', () => {
    const timeline = samples(0, 20_000, (t) => (t < 10_000 ? steady('pg0')() : steady('pg1')()));
    expect(judgeFencedPrimarySessions([fenced(9_500, 'pg0')], timeline, new Set(['primary'])).violations).toEqual([]);
    const healthy = samples(0, 20_000, steady('pg0'));
    expect(judgeFencedPrimarySessions([fenced(8_000, 'pg0', 'replicas')], healthy, new Set(['primary']))).toEqual({ judged: 0, unjudged: 0, violations: [] });
  });

  it('takes a REST primary whose postgres is not running (Patroni demoting it after losing etcd) for no healthy primary', () => {
    expect(roleOf({ role: 'master', state: 'running' })).toBe('primary');
    expect(roleOf({ role: 'primary', state: 'running' })).toBe('primary');
    expect(roleOf({ role: 'master', state: 'stopping' })).toBe('other');
    expect(roleOf({ role: 'master', state: 'starting' })).toBe('other');
    expect(roleOf({ role: 'replica', state: 'running' })).toBe('replica');
    // The chaos run 2026-12-02T02-01-48: role master, state stopping, for a second of the window.
    const timeline = samples(0, 20_000, (t) =>
      t >= 8_000 && t < 9_000 ? { key: undefined, roles: { pg0: roleOf({ role: 'master', state: 'stopping' }), pg1: 'replica' as const } } : steady('pg0')(),
    );
    expect(judgeFencedPrimarySessions([fenced(8_000, 'pg0')], timeline, new Set(['primary'])).violations).toEqual([]);
  });

  it('leaves an error unjudged when the samples have a gap around it', () => {
    const gappy = [...samples(0, 5_000, steady('pg0')), ...samples(12_000, 20_000, steady('pg0'))];
    expect(judgeFencedPrimarySessions([fenced(8_000, 'pg0')], gappy, new Set(['primary']))).toEqual({ judged: 0, unjudged: 1, violations: [] });
  });
});

describe('acknowledged writes exactly once', () => {
  const acked = Array.from({ length: 100 }, (_, i) => ({ seq: i + 1, at: 1_000 + i * 100 }));

  it('passes when every acknowledged write is there once', () => {
    const verdict = judgeExactlyOnce(
      'w',
      acked,
      acked.map((a) => a.seq),
      [],
    );
    expect(verdict.violations).toEqual([]);
    expect(verdict.rows).toBe(100);
  });

  it('finds duplicates and holes', () => {
    const rows = acked.map((a) => a.seq).filter((s) => s !== 40);
    rows.push(12);
    const verdict = judgeExactlyOnce('w', acked, rows, []);
    expect(verdict.duplicates).toBe(1);
    expect(verdict.violations.map((v) => v.detail).join('\n')).toMatch(/more than once .*12×2/);
    expect(verdict.violations.map((v) => v.detail).join('\n')).toMatch(/1 acknowledged writes missing .*seq 40/);
  });

  it('forgives only the tail just before a crash', () => {
    // A crash seen at 8,000: writes 61..70 (at 7,000..7,900) were lost, the last kept one at 6,900.
    const rows = acked.map((a) => a.seq).filter((s) => s < 61 || s > 70);
    const verdict = judgeExactlyOnce('w', acked, rows, [{ startedAt: 7_950, seenAt: 8_000 }]);
    expect(verdict.violations).toEqual([]);
    expect(verdict.lostInCrashTails).toBe(10);
    // A write lost well before the crash's tail is not forgiven.
    const early = rows.filter((s) => s !== 30);
    const strict = judgeExactlyOnce('w', acked, early, [{ startedAt: 7_950, seenAt: 8_000 }]);
    expect(strict.violations).toHaveLength(1);
    expect(TAIL_SLACK_MS).toBeLessThan(4_000);
  });
});
