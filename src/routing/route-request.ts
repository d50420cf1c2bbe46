import type { ClusterState, Member } from '../topology/cluster-state.js';
import type { Balance, RouteKind } from '../config/types.js';

/** What one new connection asks for: the listener's route, or the client's override within it. */
export interface RouteRequest {
  route: RouteKind;
  /** Tag filters: every entry must match the member's tag (as string). */
  tags: Readonly<Record<string, string>>;
  maxLagBytes?: number;
  /**
   * Replicas max_lag keeps out although they are under the limit now, because they lagged until
   * recently (LagHysteresis), with the predicate to show ("was over max_lag 1 MB until 3 s ago ...").
   */
  lagHeld?: ReadonlyMap<string, string>;
  /** Tried only when `route` yields no eligible member. */
  fallback?: RouteKind;
  balance: Balance;
  /**
   * Evaluation time (ms since epoch). Routing never reads the clock itself: with `now` it can say
   * how long the DCS has been unreachable and ignore REST observations older than `loop_wait`.
   * Without it, every observation counts as fresh.
   */
  now?: number;
}

/** Why a member is not used by a route; shown by /topology and in refusal messages. */
export interface Exclusion {
  member: string;
  reason:
    'role' | 'state' | 'tag' | 'lag' | 'noloadbalance' | 'not-sync' | 'sync' | 'upstream' | 'invalid' | 'unreachable' | 'no-address' | 'not-leader' | 'switchover' | 'restart';
  detail: string;
}

export interface RouteDecision {
  /** Members to try, in order (the first is the pick; the rest are retries for read routes). */
  candidates: readonly Member[];
  excluded: readonly Exclusion[];
  /** The route that produced the candidates (`fallback` when the main route had none). */
  routeUsed: RouteKind;
  /** When candidates is empty: a sentence for the client, e.g. "leader election in progress". */
  reason?: string;
  /** Things an operator should know even though a candidate was found (e.g. primary tagged nofailover). */
  warnings?: readonly string[];
  /** When `routeUsed` is the fallback: why the listener's own route had no candidate. */
  fallbackReason?: string;
}

/**
 * Per-listener balancing memory: a round-robin cursor and live session counts per member.
 * Owned by the proxy (it knows the sessions); read by routing to order candidates.
 */
export interface BalanceMemory {
  nextIndex: number;
  sessionsByMember: ReadonlyMap<string, number>;
  /** For 'random': injected so tests are deterministic. */
  random: () => number;
}

export type ChooseBackends = (state: ClusterState, request: RouteRequest, memory: BalanceMemory) => RouteDecision;
