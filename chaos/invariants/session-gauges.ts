/**
 * The router's session and held gauges against what it really holds. Pure. The truth is
 * pg_stat_activity on each member: every chaos connection names its listener in
 * application_name, so the client backends per (listener, member) are counted there and
 * must equal `patroni_router_sessions{listener, member}`. A split session's gauge counts it
 * on its primary link's member; its replica link, when it has one, is a second backend on a
 * replica that no gauge counts, so there the backends may only be fewer than its sessions.
 * At a quiet moment no chaos client is waiting for a member, so every held gauge reads 0.
 */
import { listenerOfApplicationName } from '../load/application-names.js';
import type { BackendCensus } from '../observe/backend-census.js';
import { samplesOf, type MetricSample } from '../router/metrics-text.js';

export interface GaugeReading {
  sessions: Record<string, Record<string, number>>;
  held: Record<string, number>;
}

export function readGauges(samples: readonly MetricSample[]): GaugeReading {
  const reading: GaugeReading = { sessions: {}, held: {} };
  for (const s of samplesOf(samples, 'patroni_router_sessions')) {
    const { listener, member } = s.labels;
    if (listener === undefined || member === undefined) continue;
    (reading.sessions[listener] ??= {})[member] = s.value;
  }
  for (const s of samplesOf(samples, 'patroni_router_held_connections')) {
    if (s.labels.listener !== undefined) reading.held[s.labels.listener] = s.value;
  }
  return reading;
}

/** Client backends per member, then per listener (from application_name). */
export function backendsByListener(census: BackendCensus): Record<string, Record<string, number> | undefined> {
  const out: Record<string, Record<string, number> | undefined> = {};
  for (const [member, backends] of Object.entries(census)) {
    if (backends === undefined) {
      out[member] = undefined;
      continue;
    }
    const counts: Record<string, number> = {};
    for (const b of backends) {
      const listener = listenerOfApplicationName(b.applicationName);
      if (listener !== undefined) counts[listener] = (counts[listener] ?? 0) + 1;
    }
    out[member] = counts;
  }
  return out;
}

export interface GaugeComparison {
  /** Empty when the gauges tell the truth. */
  mismatches: string[];
  /** (listener, member) pairs compared. */
  compared: number;
}

export function compareGauges(
  gauges: GaugeReading,
  census: BackendCensus,
  opts: { listeners: readonly string[]; splitListeners: readonly string[]; primary: string },
): GaugeComparison {
  const truth = backendsByListener(census);
  const mismatches: string[] = [];
  let compared = 0;
  for (const [member, counts] of Object.entries(truth)) {
    if (counts === undefined) continue;
    for (const listener of opts.listeners) {
      const gauge = gauges.sessions[listener]?.[member] ?? 0;
      const real = counts[listener] ?? 0;
      compared++;
      if (opts.splitListeners.includes(listener) && member !== opts.primary) {
        const splitTotal = Object.values(gauges.sessions[listener] ?? {}).reduce((a, b) => a + b, 0);
        if (gauge !== 0) mismatches.push(`sessions{listener=${listener},member=${member}} is ${gauge}, but split sessions belong to the primary ${opts.primary}`);
        if (real > splitTotal) mismatches.push(`${member} has ${real} ${listener} backends (replica links), more than the ${splitTotal} ${listener} sessions`);
      } else if (gauge !== real) {
        mismatches.push(`sessions{listener=${listener},member=${member}} is ${gauge}, pg_stat_activity on ${member} has ${real}`);
      }
    }
  }
  for (const listener of opts.listeners) {
    const held = gauges.held[listener] ?? 0;
    if (held !== 0) mismatches.push(`held_connections{listener=${listener}} is ${held} at a quiet moment`);
  }
  return { mismatches, compared };
}

/** The held probe: `expected` connections known to be waiting on `listener`, none with a backend. */
export function compareHeld(gauges: GaugeReading, listener: string, expected: number): string | undefined {
  const held = gauges.held[listener] ?? 0;
  const sessions = Object.values(gauges.sessions[listener] ?? {}).reduce((a, b) => a + b, 0);
  if (held === expected && sessions === 0) return undefined;
  return `held_connections{listener=${listener}} is ${held} and its sessions ${sessions}, with ${expected} probe connections waiting and none placed`;
}
