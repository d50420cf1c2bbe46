/**
 * The pooled writer's requests over a round, judged: errors by SQLSTATE and by who caused them,
 * the longest wait, the errors of requests sent well after the event, and the router's account
 * of the sessions it moved. Pure.
 */
import { classifyClientError } from '../test/support/client-error-cause.js';
import type { PoolAttempt } from './pool-writer.js';
import type { PoolOutcome, SessionMoves } from './results.js';
import { judgeWrites } from './write-attempts.js';

/**
 * A request sent this long after the event did not meet it mid-statement, however late the
 * proxy learnt of it: an error then means the proxy failed a session that was only waiting.
 */
export const LATE_AFTER_MS = 2000;

/** What the table held for the round afterwards: row ids, and how many rows each request number has. */
export interface RoundRows {
  ids: ReadonlySet<number>;
  seqCounts: ReadonlyMap<number, number>;
}

const bump = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

export interface PoolRound {
  eventAt: number;
  /**
   * From when a request that failed had been sent on a session idle at the event (a crash: once
   * the SIGKILL had landed; a switchover: the event itself, where no error is due).
   */
  idleFrom: number;
  size: number;
  /** Connections the pool opened over the round, the first `size` included. */
  opened: number;
}

export function tallyPool(attempts: readonly PoolAttempt[], round: PoolRound, rows?: RoundRows): PoolOutcome {
  const { eventAt, idleFrom, size } = round;
  const errorsByCode: Record<string, number> = {};
  const errorsByCause: Record<string, number> = {};
  const idleErrorsByCode: Record<string, number> = {};
  const sampleMessages: Record<string, string> = {};
  let errors = 0;
  let idleErrors = 0;
  let lateErrors = 0;
  let firstErrorSentMs = Number.NaN;
  let lastErrorSentMs = Number.NaN;
  let longestWaitMs = Number.NaN;
  let longestWaitSentMs = Number.NaN;
  for (const a of attempts) {
    const wait = a.at - a.startedAt;
    if (!(wait <= longestWaitMs)) {
      longestWaitMs = wait;
      longestWaitSentMs = a.startedAt - eventAt;
    }
    if (a.ok) continue;
    errors++;
    const code = a.code ?? 'unknown';
    const message = a.message ?? '';
    const { cause } = classifyClientError(a.code, message);
    bump(errorsByCode, code);
    bump(errorsByCause, cause);
    if (message !== '') {
      sampleMessages[code] ??= message;
      sampleMessages[cause] ??= message;
    }
    const sentMs = a.startedAt - eventAt;
    if (!(sentMs >= firstErrorSentMs)) firstErrorSentMs = sentMs;
    if (!(sentMs <= lastErrorSentMs)) lastErrorSentMs = sentMs;
    if (a.startedAt > idleFrom) {
      idleErrors++;
      bump(idleErrorsByCode, code);
    }
    if (sentMs > LATE_AFTER_MS) lateErrors++;
  }
  const gap = judgeWrites(attempts, eventAt);
  let lostAcknowledged = Number.NaN;
  let writtenTwice = Number.NaN;
  if (rows) {
    lostAcknowledged = attempts.filter((a) => a.ok && a.rowId !== undefined && !rows.ids.has(a.rowId)).length;
    writtenTwice = [...rows.seqCounts.values()].filter((n) => n > 1).length;
  }
  return {
    size,
    reopened: Math.max(0, round.opened - size),
    attempts: attempts.length,
    successes: attempts.filter((a) => a.ok).length,
    errors,
    errorsByCode,
    errorsByCause,
    sampleMessages,
    idleErrors,
    idleErrorsByCode,
    lateErrors,
    firstErrorSentMs,
    lastErrorSentMs,
    longestWaitMs,
    longestWaitSentMs,
    longestGapMs: gap.longestGapMs,
    gapFromMs: gap.gapFromMs,
    gapToMs: gap.gapToMs,
    recovered: gap.recovered,
    lostAcknowledged,
    writtenTwice,
  };
}

/** The router's move counters, move waits and open sessions for one listener, from its /metrics text. */
export interface MoveReading {
  sessions: number;
  moved: number;
  notMoved: Record<string, number>;
  moveWaitSumSeconds: number;
  moveWaitCount: number;
}

const SERIES = /^patroni_router_(sessions|sessions_moved_total|sessions_not_moved_total|session_move_wait_seconds_sum|session_move_wait_seconds_count)\{([^}]*)\} (\S+)$/;

export function parseMoveMetrics(metricsText: string, listener: string): MoveReading {
  const reading: MoveReading = { sessions: 0, moved: 0, notMoved: {}, moveWaitSumSeconds: 0, moveWaitCount: 0 };
  for (const line of metricsText.split('\n')) {
    const match = SERIES.exec(line.trim());
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] as string).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels['listener'] !== listener) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value)) continue;
    switch (match[1]) {
      case 'sessions':
        reading.sessions += value;
        break;
      case 'sessions_moved_total':
        reading.moved += value;
        break;
      case 'session_move_wait_seconds_sum':
        reading.moveWaitSumSeconds += value;
        break;
      case 'session_move_wait_seconds_count':
        reading.moveWaitCount += value;
        break;
      default: {
        const reason = labels['reason'] ?? 'unknown';
        reading.notMoved[reason] = (reading.notMoved[reason] ?? 0) + value;
      }
    }
  }
  return reading;
}

/** From the reading just before the event to the one after the round: the sessions the round moved and did not. */
export function sessionMoves(before: MoveReading, after: MoveReading): SessionMoves {
  const notMoved: Record<string, number> = {};
  for (const [reason, n] of Object.entries(after.notMoved)) {
    const d = n - (before.notMoved[reason] ?? 0);
    if (d !== 0) notMoved[reason] = d;
  }
  const waits = after.moveWaitCount - before.moveWaitCount;
  return {
    sessionsAtEvent: before.sessions,
    moved: after.moved - before.moved,
    notMoved,
    moveWaitMeanMs: waits > 0 ? ((after.moveWaitSumSeconds - before.moveWaitSumSeconds) * 1000) / waits : Number.NaN,
  };
}
