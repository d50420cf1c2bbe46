/**
 * No healthy session closed on the primary. Pure: a client of a write listener told by the
 * router's fencing text that member X "is no longer" eligible is a violation when every
 * sample from `beforeMs` before that error to `afterMs` after it shows X as primary by its own
 * REST API, with the leader key naming X (or etcd not answering). A switchover or crash always
 * shows in that window: the leader key moves, or the member stops answering as primary.
 */
import type { ClientError } from '../load/client-errors.js';
import type { PrimarySample } from '../observe/primary-timeline.js';
import type { Violation } from './violations.js';

export interface FencingWindow {
  beforeMs: number;
  afterMs: number;
  /** Samples further apart than this leave the error unjudged. */
  maxGapMs: number;
}

export const FENCING_WINDOW: FencingWindow = { beforeMs: 1_000, afterMs: 5_000, maxGapMs: 2_000 };

export interface FencingVerdict {
  judged: number;
  unjudged: number;
  violations: Violation[];
}

export function judgeFencedPrimarySessions(
  errors: readonly ClientError[],
  samples: readonly PrimarySample[],
  writeListeners: ReadonlySet<string>,
  window: FencingWindow = FENCING_WINDOW,
): FencingVerdict {
  const verdict: FencingVerdict = { judged: 0, unjudged: 0, violations: [] };
  for (const e of errors) {
    const member = e.classified.member;
    if (e.classified.cause !== 'router-fencing' || member === undefined || !writeListeners.has(e.listener)) continue;
    const from = e.at - window.beforeMs;
    const to = e.at + window.afterMs;
    const around = samples.filter((s) => s.startedAt <= to && s.at >= from);
    const covered =
      around.length > 0 &&
      (around[0] as PrimarySample).startedAt <= from + window.maxGapMs &&
      (around[around.length - 1] as PrimarySample).at >= to - window.maxGapMs &&
      around.every((s, i) => i === 0 || s.startedAt - (around[i - 1] as PrimarySample).at <= window.maxGapMs);
    if (!covered) {
      verdict.unjudged++;
      continue;
    }
    verdict.judged++;
    const healthy = around.every((s) => s.roles[member] === 'primary' && (s.leaderKey === member || s.leaderKey === undefined));
    if (healthy) {
      verdict.violations.push({
        invariant: 'healthy-primary-session-closed',
        at: e.at,
        detail: `${e.source} was told "${e.message}" while ${member} was the primary from ${window.beforeMs / 1000} s before to ${window.afterMs / 1000} s after (${around.length} samples)`,
      });
    }
  }
  return verdict;
}
