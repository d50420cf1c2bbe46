import type { LinkName, UnitReason } from './unit-routing.js';

/** What one split listener routed since it started, for /topology and the status page (the metrics keep their own counters). */
export class SplitStats {
  readonly units: Record<LinkName, number> = { primary: 0, replica: 0 };
  /** Units sent to the primary, by why: `consistency` counts the read-your-writes fallbacks. */
  readonly primaryReasons: Partial<Record<UnitReason, number>> = {};
  /** Replicas' 25006 answers to a read, run again on the primary. */
  retriedOnPrimary = 0;

  routed(link: LinkName, reason: UnitReason): void {
    this.units[link]++;
    if (link === 'primary') this.primaryReasons[reason] = (this.primaryReasons[reason] ?? 0) + 1;
  }

  /** A copy, for a report that must not change under its reader. */
  snapshot(): { units: Record<LinkName, number>; primaryReasons: Partial<Record<UnitReason, number>>; retriedOnPrimary: number } {
    return { units: { ...this.units }, primaryReasons: { ...this.primaryReasons }, retriedOnPrimary: this.retriedOnPrimary };
  }
}
