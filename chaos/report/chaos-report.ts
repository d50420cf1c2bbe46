/** What a chaos run found, as chaos/reports/<stamp>.json holds it, and the counts derived from it. Pure. */
import type { FaultRecord } from '../faults/fault-context.js';
import { FAULT_KINDS, type FaultKind } from '../faults/fault-plan.js';
import type { CauseTally, ClientError } from '../load/client-errors.js';
import { INVARIANTS, type InvariantName, type Violation } from '../invariants/violations.js';

export interface ResourceFigures {
  rssKb: number;
  fds: number;
}

export interface ChaosReport {
  seed: number;
  minutes: number;
  startedAt: string;
  endedAt: string;
  /** From the first fault's gap to the end of the last recovery. */
  chaosSeconds: number;
  totalSeconds: number;
  /** What was run: cluster shape, loads, router settings. */
  setup: string[];
  faults: FaultRecord[];
  faultsByKind: Record<FaultKind, { injected: number; failed: number }>;
  clientErrors: { total: number; byCause: CauseTally[]; bySource: Record<string, number>; /** The first few hundred, as seen. */ list: ClientError[] };
  load: Array<{ name: string; listener: string; done: number; unit: string; errors: number }>;
  writes: Array<{ writer: string; acknowledged: number; rows: number; duplicates: number; lostInCrashTails: number }>;
  checks: { placementJudged: number; placementUnjudged: number; fencingJudged: number; fencingUnjudged: number; gaugeCheckpoints: number; gaugeCheckpointsUnjudged: number };
  violations: Violation[];
  resources: {
    baseline: ResourceFigures;
    peak: ResourceFigures;
    final: ResourceFigures;
    /** Highest RSS of the warm-up, the first `warmUpMinutes` of faults; the final RSS may exceed it by the climb tolerance. */
    warmRssKb: number;
    warmUpMinutes: number;
    rssLimitKb: number;
    fdTolerance: number;
    /** Live heap after a full GC (heap snapshots), and the final's limit. */
    liveHeapKb: { baseline: number; final: number; limit: number };
    /** What grew most in the live heap, by class or kind. */
    heapGrowth: Array<{ name: string; kb: number; count: number }>;
    /** One sample a minute, for the shape of RSS over the run. */ perMinute: Array<ResourceFigures & { minute: number }>;
  };
  backends: { leaked: string[]; expected: Record<string, Record<string, number>> };
  router: { exit: string; logLines: number; errorLines: number; warnLines: number };
  notes: string[];
}

export function countFaultsByKind(faults: readonly FaultRecord[]): Record<FaultKind, { injected: number; failed: number }> {
  const out = Object.fromEntries(FAULT_KINDS.map((k) => [k, { injected: 0, failed: 0 }])) as Record<FaultKind, { injected: number; failed: number }>;
  for (const f of faults) {
    const entry = out[f.kind as FaultKind];
    if (entry === undefined) continue;
    if (f.failed === undefined) entry.injected++;
    else entry.failed++;
  }
  return out;
}

export function countViolations(violations: readonly Violation[]): Record<InvariantName, number> {
  const out = Object.fromEntries(Object.keys(INVARIANTS).map((k) => [k, 0])) as Record<InvariantName, number>;
  for (const v of violations) out[v.invariant]++;
  return out;
}

/** One sample per minute of the run (the first at or after each minute), for the report. */
export function perMinute(samples: ReadonlyArray<{ at: number; rssKb: number; fds: number }>, startedAt: number): Array<ResourceFigures & { minute: number }> {
  const out: Array<ResourceFigures & { minute: number }> = [];
  for (const s of samples) {
    const minute = Math.floor((s.at - startedAt) / 60_000);
    if (out.length === 0 || (out[out.length - 1] as { minute: number }).minute < minute) out.push({ minute, rssKb: s.rssKb, fds: s.fds });
  }
  return out;
}
