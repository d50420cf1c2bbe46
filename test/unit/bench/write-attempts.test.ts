import { describe, expect, it } from 'vitest';
import { judgeWrites, lostAcknowledged, steadySince, type WriteAttempt } from '../../../bench/write-attempts.js';

const ok = (at: number, rowId?: number): WriteAttempt => ({ startedAt: at - 1, at, step: 'insert', ok: true, ...(rowId === undefined ? {} : { rowId }) });
const fail = (at: number, code: string, step: 'insert' | 'connect' = 'insert', message = 'boom'): WriteAttempt => ({ startedAt: at - 1, at, step, ok: false, code, message });

describe('judging writes around an event', () => {
  it('measures the longest gap between successes across the event, with errors by code', () => {
    const attempts = [
      ok(900),
      ok(1000), // event at 1005
      fail(1010, '25006', 'insert', 'cannot execute INSERT in a read-only transaction'),
      fail(1020, '25006'),
      fail(1030, 'ECONNREFUSED', 'connect'),
      fail(1040, '57P01'),
      ok(1500),
      ok(1510),
      ok(1700),
    ];
    const outage = judgeWrites(attempts, 1005);
    expect(outage.longestGapMs).toBe(500);
    expect(outage.gapFromMs).toBe(-5);
    expect(outage.gapToMs).toBe(495);
    expect(outage.recovered).toBe(true);
    expect(outage.errorsByCode).toEqual({ '25006': 2, ECONNREFUSED: 1, '57P01': 1 });
    expect(outage.writesToNonPrimary).toBe(2);
    expect(outage.failedConnects).toBe(1);
    expect(outage.sampleMessages['25006']).toBe('cannot execute INSERT in a read-only transaction');
    expect(outage.successes).toBe(5);
    expect(outage.attempts).toBe(9);
  });

  it('ignores gaps that ended before the event', () => {
    const outage = judgeWrites([ok(0), ok(5000), ok(6000), ok(6010), ok(6200)], 6005);
    expect(outage.longestGapMs).toBe(190);
  });

  it('reports an outage that never ended, running to the last attempt', () => {
    const outage = judgeWrites([ok(100), fail(200, '25006'), fail(3000, '25006')], 150);
    expect(outage.recovered).toBe(false);
    expect(outage.longestGapMs).toBe(2900);
  });

  it('counts from the event when there was no success before it', () => {
    const outage = judgeWrites([fail(10, 'ECONNREFUSED', 'connect'), ok(400)], 0);
    expect(outage.longestGapMs).toBe(400);
  });

  it('finds acknowledged rows that are gone', () => {
    expect(lostAcknowledged([ok(1, 1), ok(2, 2), fail(3, 'x'), ok(4, 3)], new Set([1, 3]))).toEqual([2]);
  });

  it('calls a writer steady after a failure-free stretch of successes', () => {
    const attempts = [ok(0), fail(100, 'x'), ok(200), ok(2200)];
    expect(steadySince(attempts, 2150, 2000)).toBe(true);
    expect(steadySince(attempts, 2050, 2000)).toBe(false);
    expect(steadySince([ok(0), fail(100, 'x')], 5000, 2000)).toBe(false);
    expect(steadySince([ok(0)], 5000, 2000)).toBe(false); // no recent success: writer stalled
  });
});

describe('filing errors', () => {
  it('prefers the SQLSTATE, then the Node code, then a word for node-postgres messages', async () => {
    const { codeOfError } = await import('../../../bench/write-attempts.js');
    expect(codeOfError(Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' }))).toBe('25006');
    expect(codeOfError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(codeOfError(new Error('Connection terminated unexpectedly'))).toBe('connection-terminated');
    expect(codeOfError(new Error('Query read timeout'))).toBe('timeout');
    expect(codeOfError(new Error('Client has encountered a connection error and is not queryable'))).toBe('connection-closed');
    expect(codeOfError('weird')).toBe('other');
  });
});
