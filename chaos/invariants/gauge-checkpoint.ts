/**
 * The session and held gauges judged at a quiet moment (no fault under way). Load keeps
 * running, so a session may open or close between the scrape and pg_stat_activity: a reading
 * counts only when two scrapes around the census agree, and the gauges are untrue only when
 * every such reading disagreed with the census, for as long as `timeoutMs`.
 */
import type { PatroniCluster } from '../../test/cluster/index.js';
import { readCensus } from '../observe/backend-census.js';
import type { AdminClient } from '../router/admin-client.js';
import { compareGauges, readGauges } from './session-gauges.js';

export interface GaugeCheckpoint {
  /** Readings where both scrapes agreed. */
  stableReadings: number;
  /** The mismatch every stable reading showed, if none matched. */
  mismatch?: string;
  matched: boolean;
}

export async function checkGaugesQuietly(
  admin: AdminClient,
  cluster: PatroniCluster,
  opts: { listeners: readonly string[]; splitListeners: readonly string[]; primary: string; timeoutMs?: number },
): Promise<GaugeCheckpoint> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let stableReadings = 0;
  let mismatch: string | undefined;
  while (Date.now() < deadline) {
    try {
      const before = readGauges(await admin.metrics());
      const census = await readCensus(cluster);
      const after = readGauges(await admin.metrics());
      if (JSON.stringify(before) === JSON.stringify(after)) {
        stableReadings++;
        const { mismatches } = compareGauges(after, census, opts);
        if (mismatches.length === 0) return { stableReadings, matched: true };
        mismatch = mismatches.join('; ');
      }
    } catch {
      // A scrape or a member that did not answer: try again.
    }
    // Pacing between readings, until the deadline.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return { stableReadings, matched: false, ...(stableReadings > 0 && mismatch !== undefined ? { mismatch } : {}) };
}
