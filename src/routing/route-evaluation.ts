import type { ClusterState, Member } from '../topology/cluster-state.js';
import type { RouteKind } from '../config/types.js';
import type { Exclusion, RouteRequest } from './route-request.js';
import { judgeMember, synchronousStandbys } from './member-eligibility.js';
import { staleCause, whyNoPrimary } from './primary-absence.js';
import { routeNoun } from './route-words.js';

/** Every member of a cluster sorted into eligible / excluded for one route, before balancing. */
export interface RouteEvaluation {
  route: RouteKind;
  /** Sorted by name. */
  eligible: Member[];
  excluded: Exclusion[];
  /** When nothing is eligible: the sentence for the client, "no replica in cluster batman: ...". */
  reason?: string;
  /** The part after the colon, for composing ("...; no primary either: <cause>"). */
  cause?: string;
}

/** How many member exclusions a refusal lists before "and N more": the message must stay readable. */
const MAX_LISTED = 5;

export function evaluateRoute(state: ClusterState, route: RouteKind, request: Pick<RouteRequest, 'tags' | 'maxLagBytes' | 'lagHeld' | 'now'>): RouteEvaluation {
  const eligible: Member[] = [];
  const excluded: Exclusion[] = [];
  const byName = [...state.members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const member of byName) {
    const exclusion = judgeMember(state, member, route, request);
    if (exclusion === undefined) eligible.push(member);
    else excluded.push(exclusion);
  }
  if (route === 'primary' && eligible.length > 1) {
    // Cannot happen (only writablePrimary qualifies), but two write targets must never leave here.
    eligible.splice(1);
  }
  if (eligible.length > 0) return { route, eligible, excluded };
  const cause = emptyCause(state, route, excluded, request.now);
  return { route, eligible, excluded, cause, reason: `no ${routeNoun(route)} in cluster ${state.scope}: ${cause}` };
}

function emptyCause(state: ClusterState, route: RouteKind, excluded: readonly Exclusion[], now: number | undefined): string {
  if (route === 'primary') {
    // There is a writable primary, but a filter or its address rules it out: only it matters.
    const own = excluded.find((e) => e.member === state.writablePrimary);
    if (state.writablePrimary === undefined || own === undefined) return whyNoPrimary(state, now);
    return withStale(state, `${own.member} ${own.detail}`, now);
  }
  if (state.members.length === 0) return withStale(state, 'no members registered', now);
  if (route === 'sync' || route === 'quorum') {
    const whyNone = synchronousStandbys(state, route).whyNone;
    if (whyNone !== undefined) return withStale(state, whyNone, now);
  }
  // Leave out what the reader already knows ("pg0 is the primary" on a replica route,
  // "pg2 is not a synchronous standby" on a sync route) unless nothing else is left.
  const membershipRoute = route === 'sync' || route === 'quorum' || route === 'read-only-sync' || route === 'read-only-quorum';
  const telling = excluded.filter((e) => !(e.member === state.writablePrimary && e.reason === 'role') && !(membershipRoute && e.reason === 'not-sync'));
  const listed = telling.length > 0 ? telling : [...excluded];
  const shown = listed.slice(0, MAX_LISTED).map((e) => `${e.member} ${e.detail}`);
  if (listed.length > MAX_LISTED) shown.push(`and ${listed.length - MAX_LISTED} more`);
  return withStale(state, shown.join('; '), now);
}

function withStale(state: ClusterState, cause: string, now: number | undefined): string {
  return state.stale ? `${cause}; ${staleCause(state, now)}` : cause;
}
