/**
 * The router's memory and open file descriptors back near the baseline after the load stops.
 * Pure.
 *
 * File descriptors are judged twice. Exactly: no socket from a client to a listener may be
 * left, and none in CLOSE_WAIT (a peer gone that the router never closed). Loosely: the count
 * may exceed the baseline by `fds` for what legitimately varies, the router's own connections
 * (REST probes, etcd, auth_query, replay positions and catalog readers per member) being open
 * or not at that moment.
 *
 * Memory is judged by what the router holds, not by what the process keeps: the live heap after
 * a full garbage collection (heap snapshots at the baseline and at the end) may exceed the
 * baseline by `liveHeapKb`, what a warmed-up router keeps for good (compiled code, the statement
 * classifier's bounded cache, metric label sets). RSS cannot serve as that test: V8 keeps the
 * heap pages it grew to, glibc keeps freed memory in its arenas, and writing the baseline
 * snapshot alone leaves tens of MB there. RSS is judged for a climb instead: at the end it may
 * exceed the highest RSS of the warm-up (the run's first minutes of faults, when every kind of
 * load has run) by `rssClimbKb`; a leak paid in RSS, not in heap, shows as that climb.
 */
import type { SocketCensus } from '../observe/proc-sockets.js';
import type { ResourceSample } from '../observe/resource-sampler.js';
import type { Violation } from './violations.js';

export interface ResourceTolerance {
  fds: number;
  liveHeapKb: number;
  rssClimbKb: number;
}

export const RESOURCE_TOLERANCE: ResourceTolerance = { fds: 12, liveHeapKb: 16 * 1024, rssClimbKb: 48 * 1024 };

/** What the run measured of the router's memory. */
export interface MemoryFigures {
  /** Live heap after a full GC, from the heap snapshots. */
  liveHeapKb: { baseline: number; final: number };
  /** Highest RSS sampled during the warm-up. */
  warmRssKb: number;
}

/** The most the final live heap may be. */
export function liveHeapLimitKb(memory: MemoryFigures, tolerance: ResourceTolerance = RESOURCE_TOLERANCE): number {
  return memory.liveHeapKb.baseline + tolerance.liveHeapKb;
}

/** The most the final RSS may be. */
export function rssLimitKb(memory: MemoryFigures, tolerance: ResourceTolerance = RESOURCE_TOLERANCE): number {
  return memory.warmRssKb + tolerance.rssClimbKb;
}

/** The warm-up the RSS climb is measured from: the first fifth of the faults, at least a minute. */
export function warmUpEnd(faultsFrom: number, faultsUntil: number): number {
  return faultsFrom + Math.max(60_000, (faultsUntil - faultsFrom) / 5);
}

export function judgeResources(
  baseline: ResourceSample,
  final: ResourceSample,
  sockets: SocketCensus,
  memory: MemoryFigures,
  tolerance: ResourceTolerance = RESOURCE_TOLERANCE,
): Violation[] {
  const out: Violation[] = [];
  const at = final.at;
  if (sockets.clients > 0) out.push({ invariant: 'resources-not-back', at, detail: `${sockets.clients} client connections to the listeners still open with every client stopped` });
  if (sockets.closeWait > 0) out.push({ invariant: 'resources-not-back', at, detail: `${sockets.closeWait} sockets in CLOSE_WAIT: their peer closed, the router never did` });
  if (final.fds > baseline.fds + tolerance.fds)
    out.push({ invariant: 'resources-not-back', at, detail: `${final.fds} open fds, baseline ${baseline.fds} + tolerance ${tolerance.fds}` });
  const heap = memory.liveHeapKb;
  if (heap.final > liveHeapLimitKb(memory, tolerance))
    out.push({
      invariant: 'resources-not-back',
      at,
      detail: `live heap after a full GC ${mb(heap.final)} MB, baseline ${mb(heap.baseline)} MB + tolerance ${mb(tolerance.liveHeapKb)} MB`,
    });
  if (final.rssKb > rssLimitKb(memory, tolerance))
    out.push({
      invariant: 'resources-not-back',
      at,
      detail: `RSS climbed to ${mb(final.rssKb)} MB, warm-up peak ${mb(memory.warmRssKb)} MB + tolerance ${mb(tolerance.rssClimbKb)} MB`,
    });
  return out;
}

function mb(kb: number): string {
  return (kb / 1024).toFixed(1);
}
