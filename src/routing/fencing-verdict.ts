import { memberByName, type ClusterState, type Member } from '../topology/cluster-state.js';
import type { RouteKind } from '../config/types.js';
import type { Exclusion, RouteRequest } from './route-request.js';
import { evaluateRoute } from './route-evaluation.js';
import { fallbackRequest } from './fallback-request.js';
import { whyNoPrimary } from './primary-absence.js';
import { routeNoun } from './route-words.js';

/** A member whose sessions on this listener must be closed, and the sentence to send them. */
export interface Fence {
  member: string;
  reason: string;
}

/**
 * Members that were eligible for the listener in `prev` and are not in `next`: their sessions
 * on this listener must be closed.
 *
 * The listener's route and its fallback are judged separately: a member stays only while it
 * is still eligible under a route it was eligible under before, or under the listener's own
 * route. So read sessions on a promoted replica are fenced even when the fallback is `primary`,
 * while sessions that reached the primary through the fallback survive replicas coming back. (A proxy that records each
 * session's `routeUsed` may pass `{ ...request, route: routeUsed, fallback: undefined }`.)
 *
 * What fences and what does not:
 * - `primary`: fail closed. The moment `writablePrimary` stops naming a member (leader key
 *   deleted, demotion, stale topology under the DCS-loss policy) its write sessions go.
 * - Read routes fence on promotion, removal, noloadbalance, tag changes, leaving the sync set,
 *   a broken upstream, and a changed address. Lag is not fenced here: only once it has lasted
 *   (routing/lag-hysteresis.ts), not on one high sample.
 * - Read routes do NOT fence when the only problem is a measurement gap: lag that became
 *   unknown, or a REST probe that failed while the DCS still says running. New connections
 *   avoid such members, but killing healthy sessions on a missing number would turn every
 *   prober hiccup into client errors.
 */
export function fencingVerdict(prev: ClusterState, next: ClusterState, request: RouteRequest): Fence[] {
  const routes: RouteKind[] = [request.route];
  if (request.fallback !== undefined && request.fallback !== request.route) routes.push(request.fallback);

  const judged = (route: RouteKind): RouteRequest => (route === request.route ? request : fallbackRequest(request));
  // Per member: the routes it was eligible under before, in listener order.
  const wasEligible = new Map<string, RouteKind[]>();
  for (const route of routes) {
    for (const m of evaluateRoute(prev, route, judged(route)).eligible) {
      wasEligible.set(m.name, [...(wasEligible.get(m.name) ?? []), route]);
    }
  }
  const after = new Map(routes.map((route) => [route, evaluateRoute(next, route, judged(route))] as const));

  const fences: Fence[] = [];
  for (const [name, hadRoutes] of wasEligible) {
    const before = memberByName(prev, name);
    const now = memberByName(next, name);
    if (now === undefined) {
      fences.push({ member: name, reason: `${name} was removed from cluster ${next.scope}` });
      continue;
    }
    const eligibleNow = (route: RouteKind): boolean => after.get(route)?.eligible.some((m) => m.name === name) ?? false;
    // Becoming a target of the listener's own route is fine too: fallback read sessions on an
    // old primary that is now a healthy replica may stay.
    const stillEligible = hadRoutes.some(eligibleNow) || eligibleNow(request.route);
    if (stillEligible) {
      if (before !== undefined && moved(before, now)) {
        fences.push({ member: name, reason: `${name} moved from ${address(before)} to ${address(now)}` });
      }
      continue;
    }
    const route = hadRoutes[0] ?? request.route;
    const exclusion = after.get(route)?.excluded.find((e) => e.member === name);
    if (route !== 'primary' && (exclusion?.reason === 'lag' || isMeasurementGap(now, exclusion))) continue;
    fences.push({ member: name, reason: fenceReason(next, route, name, exclusion, request.now) });
  }
  return fences;
}

function isMeasurementGap(member: Member, exclusion: Exclusion | undefined): boolean {
  if (exclusion === undefined) return false;
  if (exclusion.reason === 'lag') return member.lagBytes === undefined;
  return exclusion.reason === 'unreachable';
}

function fenceReason(next: ClusterState, route: RouteKind, name: string, exclusion: Exclusion | undefined, now: number | undefined): string {
  if (route === 'primary') {
    const successor = next.writablePrimary;
    if (successor !== undefined && successor !== name) {
      return `${name} is no longer the primary of cluster ${next.scope} (new primary: ${successor})`;
    }
    if (successor === undefined) {
      return `${name} is no longer the primary of cluster ${next.scope} (${whyNoPrimary(next, now)})`;
    }
  }
  const detail = exclusion === undefined ? 'no longer qualifies' : exclusion.detail;
  return `${name} is no longer a ${routeNoun(route)} target in cluster ${next.scope}: ${name} ${detail}`;
}

function moved(before: Member, after: Member): boolean {
  return before.host !== after.host || before.port !== after.port;
}

function address(m: Member): string {
  return `${m.host ?? '?'}:${m.port ?? '?'}`;
}
