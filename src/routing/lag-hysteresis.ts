import type { ClusterState } from '../topology/cluster-state.js';
import { formatBytes } from './byte-size.js';

/** A listener's lag rules (max_lag and its two timers). */
export interface LagRules {
  maxLagBytes: number;
  /** How long a replica must stay under max_lag before new connections use it again. */
  recoveryMs: number;
  /** How long it must stay over before the sessions on it are closed; undefined: never. */
  fenceAfterMs: number | undefined;
}

/** What one replica's lag has done lately against one listener's max_lag. */
export interface LagRecord {
  /** Since when it has been over the limit (known lag only); undefined while under. */
  overSince?: number;
  /** When it last went back under the limit. */
  underSince?: number;
  /** The lag was not known at the last look (no REST answer, no DCS positions). */
  unknown: boolean;
}

/**
 * Lag with hysteresis, so one high probe sample does not throw out a healthy replica and kill
 * its sessions (HAProxy users know long analytics queries killed by a brief lag spike,
 * patroni#1249): a replica leaves the listener's route for new connections as soon as it is
 * over max_lag, comes back only after `recoveryMs` under it, and its sessions are closed only
 * once the lag has lasted `fenceAfterMs`.
 */
export class LagHysteresis {
  private readonly records = new Map<string, LagRecord>();

  constructor(readonly rules: LagRules) {}

  /** Folds in a new snapshot (called on every state of the listener's cluster). */
  observe(state: ClusterState, now: number): void {
    const seen = new Set<string>();
    for (const m of state.members) {
      if (m.role !== 'replica') continue;
      seen.add(m.name);
      const record = this.records.get(m.name) ?? { unknown: false };
      record.unknown = m.lagBytes === undefined;
      if (m.lagBytes !== undefined) {
        const over = m.lagBytes > this.rules.maxLagBytes;
        if (over && record.overSince === undefined) record.overSince = now;
        if (!over && record.overSince !== undefined) {
          record.overSince = undefined;
          record.underSince = now;
        }
      }
      this.records.set(m.name, record);
    }
    for (const name of [...this.records.keys()]) if (!seen.has(name)) this.records.delete(name);
  }

  /**
   * Replicas new connections avoid although under max_lag now: back under it for less than
   * recoveryMs, each with the predicate to show. (Those over it now are excluded by their lag.)
   */
  held(now: number): ReadonlyMap<string, string> {
    const out = new Map<string, string>();
    for (const [name, r] of this.records) {
      if (r.overSince !== undefined || r.underSince === undefined || now - r.underSince >= this.rules.recoveryMs) continue;
      const ago = Math.round((now - r.underSince) / 100) / 10;
      out.set(name, `was over max_lag ${formatBytes(this.rules.maxLagBytes)} until ${ago} s ago (used again after ${this.rules.recoveryMs / 1000} s under it)`);
    }
    return out;
  }

  /** Replicas whose sessions must go: over max_lag for at least fenceAfterMs (unknown lag never counts). */
  fenceDue(now: number): ReadonlySet<string> {
    const out = new Set<string>();
    if (this.rules.fenceAfterMs === undefined) return out;
    for (const [name, r] of this.records) if (r.overSince !== undefined && now - r.overSince >= this.rules.fenceAfterMs) out.add(name);
    return out;
  }

  /** When the next replica becomes due for fencing, for a timer; undefined when none is over. */
  nextFenceAt(): number | undefined {
    if (this.rules.fenceAfterMs === undefined) return undefined;
    let next: number | undefined;
    for (const r of this.records.values()) {
      if (r.overSince === undefined) continue;
      const at = r.overSince + this.rules.fenceAfterMs;
      next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }

  record(member: string): Readonly<LagRecord> | undefined {
    return this.records.get(member);
  }
}
