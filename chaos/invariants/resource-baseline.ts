/**
 * RSS and open file descriptors back near the baseline after the load stops. Pure.
 *
 * File descriptors are judged twice. Exactly: no socket from a client to a listener may be
 * left, and none in CLOSE_WAIT (a peer gone that the router never closed). Loosely: the count
 * may exceed the baseline by `fds` for what legitimately varies, the router's own connections
 * (REST probes, etcd, auth_query, replay positions and catalog readers per member) being open
 * or not at that moment.
 *
 * RSS may not return to the baseline even without a leak: V8 keeps the heap it grew to under
 * load and the allocator keeps freed pages. The tolerance is the larger of `rssKb` and
 * `rssShare` of the baseline; a leak of more than that divided by the sessions the run opened
 * per session would show.
 */
import type { SocketCensus } from '../observe/proc-sockets.js';
import type { ResourceSample } from '../observe/resource-sampler.js';
import type { Violation } from './violations.js';

export interface ResourceTolerance {
  fds: number;
  rssKb: number;
  rssShare: number;
}

export const RESOURCE_TOLERANCE: ResourceTolerance = { fds: 12, rssKb: 64 * 1024, rssShare: 0.5 };

export function rssLimitKb(baseline: ResourceSample, tolerance: ResourceTolerance = RESOURCE_TOLERANCE): number {
  return baseline.rssKb + Math.max(tolerance.rssKb, Math.round(baseline.rssKb * tolerance.rssShare));
}

export function judgeResources(baseline: ResourceSample, final: ResourceSample, sockets: SocketCensus, tolerance: ResourceTolerance = RESOURCE_TOLERANCE): Violation[] {
  const out: Violation[] = [];
  const at = final.at;
  if (sockets.clients > 0) out.push({ invariant: 'resources-not-back', at, detail: `${sockets.clients} client connections to the listeners still open with every client stopped` });
  if (sockets.closeWait > 0) out.push({ invariant: 'resources-not-back', at, detail: `${sockets.closeWait} sockets in CLOSE_WAIT: their peer closed, the router never did` });
  if (final.fds > baseline.fds + tolerance.fds)
    out.push({ invariant: 'resources-not-back', at, detail: `${final.fds} open fds, baseline ${baseline.fds} + tolerance ${tolerance.fds}` });
  const limit = rssLimitKb(baseline, tolerance);
  if (final.rssKb > limit)
    out.push({
      invariant: 'resources-not-back',
      at,
      detail: `RSS ${Math.round(final.rssKb / 1024)} MB, baseline ${Math.round(baseline.rssKb / 1024)} MB, limit ${Math.round(limit / 1024)} MB`,
    });
  return out;
}
