/**
 * Every acknowledged write is in the table exactly once. Pure. No row may be there twice (no
 * statement is ever replayed, answered or not). With asynchronous replication a leader crash
 * may lose the old primary's last commits: a tail just before the crash was seen, never a
 * write acknowledged after it nor a hole among earlier ones (test/integration/
 * session-moves.test.ts judges a single crash the same way).
 */
import type { Violation } from './violations.js';

export interface CrashWindow {
  /** When the leader was killed. */
  startedAt: number;
  /** When a client first saw it (its first failed write), at most a little after startedAt. */
  seenAt: number;
}

export interface AckedWrite {
  seq: number;
  at: number;
}

/** How far before the newest write a crash kept its lost tail may start (commit order vs. answer order). */
export const TAIL_SLACK_MS = 1_000;

export interface ExactlyOnceVerdict {
  writer: string;
  acknowledged: number;
  rows: number;
  duplicates: number;
  lostInCrashTails: number;
  /** The longest tail a crash took, from its first lost write to when it was seen. */
  longestTailMs: number;
  violations: Violation[];
}

/** The latest time in a list that may hold hundreds of thousands (too many to spread into Math.max). */
function latest(times: Iterable<number>): number {
  let max = 0;
  for (const t of times) if (t > max) max = t;
  return max;
}

export function judgeExactlyOnce(writer: string, acked: readonly AckedWrite[], rowSeqs: readonly number[], crashes: readonly CrashWindow[]): ExactlyOnceVerdict {
  const present = new Map<number, number>();
  for (const seq of rowSeqs) present.set(seq, (present.get(seq) ?? 0) + 1);
  const violations: Violation[] = [];
  const duplicated = [...present.entries()].filter(([, n]) => n > 1);
  const end = latest(acked.map((a) => a.at));
  if (duplicated.length > 0) {
    violations.push({
      invariant: 'acknowledged-writes',
      at: end,
      detail: `${writer}: ${duplicated.length} rows written more than once (seqs ${duplicated
        .slice(0, 10)
        .map(([s, n]) => `${s}×${n}`)
        .join(', ')})`,
    });
  }
  // Per crash, the newest acknowledged write that survived it bounds where its tail may start.
  const tails = crashes.map((c) => {
    const kept = acked.filter((a) => present.has(a.seq) && a.at < c.seenAt).map((a) => a.at);
    return { crash: c, from: latest(kept) - TAIL_SLACK_MS };
  });
  let lostInCrashTails = 0;
  let longestTailMs = 0;
  const lostOutside: AckedWrite[] = [];
  for (const a of acked) {
    if (present.has(a.seq)) continue;
    const tail = tails.find((t) => a.at < t.crash.seenAt && a.at >= t.from);
    if (tail === undefined) lostOutside.push(a);
    else {
      lostInCrashTails++;
      longestTailMs = Math.max(longestTailMs, tail.crash.seenAt - a.at);
    }
  }
  if (lostOutside.length > 0) {
    violations.push({
      invariant: 'acknowledged-writes',
      at: (lostOutside[0] as AckedWrite).at,
      detail: `${writer}: ${lostOutside.length} acknowledged writes missing outside any crash's tail (first: seq ${lostOutside
        .slice(0, 10)
        .map((a) => `${a.seq} at ${new Date(a.at).toISOString()}`)
        .join(', ')})`,
    });
  }
  return { writer, acknowledged: acked.length, rows: rowSeqs.length, duplicates: duplicated.length, lostInCrashTails, longestTailMs, violations };
}
