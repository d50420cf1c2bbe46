import { memberByName, type ClusterState } from '../topology/cluster-state.js';
import type { RouteKind } from '../config/types.js';
import type { BalanceMemory, ChooseBackends, Exclusion, RouteDecision, RouteRequest } from './route-request.js';
import { evaluateRoute, type RouteEvaluation } from './route-evaluation.js';
import { withHandover } from './handover.js';
import { fallbackRequest } from './fallback-request.js';
import { orderByBalance } from './balance-order.js';
import { staleCause } from './primary-absence.js';
import { routeNoun } from './route-words.js';

/**
 * Where one new connection may go: the listener's route (or the client's override), else its
 * fallback. Pure: the same state, request and memory always give the same decision.
 * The proxy calls `advanceBalance(memory)` after using a decision.
 */
export const chooseBackends: ChooseBackends = (state: ClusterState, request: RouteRequest, memory: BalanceMemory): RouteDecision => {
  const main = withHandover(state, evaluateRoute(state, request.route, request), request);
  if (main.eligible.length > 0) return decide(state, main, request, memory);

  const fallbackRoute = request.fallback;
  if (fallbackRoute === undefined || fallbackRoute === request.route) {
    return { candidates: [], excluded: main.excluded, routeUsed: main.route, reason: main.reason, warnings: [] };
  }
  const fallback = withHandover(state, evaluateRoute(state, fallbackRoute, fallbackRequest(request)), request);
  if (fallback.eligible.length > 0) {
    return { ...decide(state, fallback, request, memory), fallbackReason: main.reason };
  }
  return {
    candidates: [],
    excluded: main.excluded,
    routeUsed: main.route,
    reason: `${main.reason}; no ${routeNoun(fallbackRoute)} either: ${fallback.cause}`,
    warnings: [],
  };
};

function decide(state: ClusterState, evaluation: RouteEvaluation, request: RouteRequest, memory: BalanceMemory): RouteDecision {
  const candidates = evaluation.route === 'primary' ? evaluation.eligible.slice(0, 1) : orderByBalance(evaluation.eligible, request.balance, memory);
  const warnings: string[] = [];
  const primary = memberByName(state, state.writablePrimary);
  if (evaluation.route === 'primary' && primary?.tags.nofailover) {
    // Patroni's leader key is the truth even when tags say this member should not lead
    // (e.g. it was promoted by hand, or the tag was added later).
    warnings.push(`primary ${primary.name} of cluster ${state.scope} is tagged nofailover; writes follow the leader key anyway`);
  }
  if (state.stale) warnings.push(`${staleCause(state, request.now)}; routing on the last known topology`);
  return { candidates, excluded: evaluation.excluded, routeUsed: evaluation.route, warnings };
}

/** One member's standing on one route, for the /topology page. */
export interface MemberVerdict {
  member: string;
  eligible: boolean;
  reason?: Exclusion['reason'];
  detail?: string;
}

export interface ListenerExplanation {
  route: RouteKind;
  /** Every member, sorted by name. */
  members: MemberVerdict[];
  /** Names of eligible members, sorted by name (balancing order is per connection). */
  eligible: string[];
  excluded: Exclusion[];
  /** When nothing is eligible: the sentence a client would get. */
  reason?: string;
  /** The fallback route's standing, when the listener has one. */
  fallback?: ListenerExplanation;
}

/** Per member: eligible or excluded with reason, for the listener's route and its fallback. */
export function explainListener(state: ClusterState, request: RouteRequest): ListenerExplanation {
  const main = explain(state, request.route, request);
  if (request.fallback === undefined || request.fallback === request.route) return main;
  return { ...main, fallback: explain(state, request.fallback, fallbackRequest(request)) };
}

function explain(state: ClusterState, route: RouteKind, request: RouteRequest): ListenerExplanation {
  const evaluation = withHandover(state, evaluateRoute(state, route, request), request);
  const eligible = new Set(evaluation.eligible.map((m) => m.name));
  const members: MemberVerdict[] = [...state.members]
    .map((m) => m.name)
    .sort()
    .map((name) => {
      if (eligible.has(name)) return { member: name, eligible: true };
      const why = evaluation.excluded.find((e) => e.member === name);
      return { member: name, eligible: false, reason: why?.reason, detail: why?.detail };
    });
  const explanation: ListenerExplanation = {
    route,
    members,
    eligible: [...eligible],
    excluded: evaluation.excluded,
  };
  if (evaluation.reason !== undefined) explanation.reason = evaluation.reason;
  return explanation;
}
