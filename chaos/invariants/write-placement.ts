/**
 * No write acknowledged by a non-primary. Pure: each acknowledged write is judged against the
 * leader-key samples that bracket it, from the last one read before it was sent to the first
 * one started after its answer. A Patroni leadership lasts seconds (loop_wait), far longer
 * than the gap between two samples, so a member that really was the leader while the write
 * ran shows in one of those samples; a write judged a violation was acknowledged by a member
 * no sample around it named. Samples etcd did not answer leave a write unjudged, not passed.
 */
import type { ClientError } from '../load/client-errors.js';
import type { PrimarySample } from '../observe/primary-timeline.js';
import type { Violation } from './violations.js';

export interface PlacedWrite {
  writer: string;
  seq: number;
  sent: number;
  at: number;
  /** The member whose port answered; undefined when the port is no member's. */
  member: string | undefined;
  port: number;
}

export interface PlacementVerdict {
  judged: number;
  unjudged: number;
  violations: Violation[];
}

/** Index of the last sample with at <= t, or -1. */
function lastEndedBy(samples: readonly PrimarySample[], t: number): number {
  let lo = 0;
  let hi = samples.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((samples[mid] as PrimarySample).at <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Index of the first sample with startedAt >= t, or -1. */
function firstStartedFrom(samples: readonly PrimarySample[], t: number): number {
  let lo = 0;
  let hi = samples.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((samples[mid] as PrimarySample).startedAt >= t) {
      found = mid;
      hi = mid - 1;
    } else lo = mid + 1;
  }
  return found;
}

export function judgeWritePlacement(writes: readonly PlacedWrite[], samples: readonly PrimarySample[]): PlacementVerdict {
  const verdict: PlacementVerdict = { judged: 0, unjudged: 0, violations: [] };
  for (const w of writes) {
    const from = lastEndedBy(samples, w.sent);
    const to = firstStartedFrom(samples, w.at);
    if (from < 0 || to < 0) {
      verdict.unjudged++;
      continue;
    }
    const around = samples.slice(from, to + 1);
    if (w.member !== undefined && around.some((s) => s.leaderKey === w.member)) {
      verdict.judged++;
      continue;
    }
    if (around.some((s) => s.leaderKey === undefined)) {
      verdict.unjudged++;
      continue;
    }
    verdict.judged++;
    const named = [...new Set(around.map((s) => s.leaderKey ?? 'nobody'))].join(', ');
    verdict.violations.push({
      invariant: 'write-on-non-primary',
      at: w.at,
      detail: `${w.writer} seq ${w.seq} was acknowledged by ${w.member ?? `port ${w.port} (no member)`} (sent ${new Date(w.sent).toISOString()}, answered after ${w.at - w.sent} ms) while the leader key named ${named}`,
    });
  }
  return verdict;
}

/**
 * Any 25006 any client saw: a write that reached a read-only member, or the router's own
 * refusal of a session on a member it found in hot standby (the replicas' load only reads).
 */
export function judgeReadOnlyErrors(errors: readonly ClientError[]): Violation[] {
  return errors.filter((e) => e.code === '25006').map((e) => ({ invariant: 'write-on-non-primary' as const, at: e.at, detail: `${e.source} got 25006: ${e.message}` }));
}
