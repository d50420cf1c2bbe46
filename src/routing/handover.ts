import type { ClusterState } from '../topology/cluster-state.js';
import type { RouteKind } from '../config/types.js';
import type { RouteRequest } from './route-request.js';
import type { RouteEvaluation } from './route-evaluation.js';
import { restartInProgress } from './restart-signal.js';
import { scheduledDueIn } from './scheduled-time.js';

/**
 * Milliseconds until a scheduled switchover request is due (0 or less: due now), the lead
 * taken off (scheduled-time.ts); undefined when it names no time (due at once) or no valid one.
 */
export function scheduledSwitchoverDueIn(request: { scheduledAt?: string } | undefined, now: number): number | undefined {
  return scheduledDueIn(request?.scheduledAt, now);
}

/**
 * Patroni has been asked to hand the leadership from the writable primary to another member,
 * and the request is due: it will checkpoint and shut that primary down within moments. A new
 * write session started now would be cut by that shutdown, so new sessions wait for the new
 * primary instead. A request scheduled for later, one naming another leader (Patroni ignores
 * it) or one naming the primary itself as candidate changes nothing.
 *
 * Only new sessions wait: running sessions are fenced when the primary actually stops being
 * the writable primary (leader key released, demoted), since Patroni may still refuse the
 * request and an early cut would then be for nothing.
 */
export function handoverInProgress(state: ClusterState, now: number | undefined): string | undefined {
  const primary = state.writablePrimary;
  const request = state.failover;
  if (primary === undefined || request === undefined || request.candidate === primary) return undefined;
  if (request.leader !== undefined && request.leader !== primary) return undefined;
  if (now !== undefined && (scheduledSwitchoverDueIn(request, now) ?? 0) > 0) return undefined;
  const to = request.candidate === undefined ? '' : ` to ${request.candidate}`;
  return `switchover in progress (${primary} is handing over${to})`;
}

/**
 * The evaluation a new session gets: as `evaluateRoute`, with the primary withheld during a
 * handover or a restart Patroni is about to run (a session placed then would be cut by the
 * shutdown; waiting, it gets the primary once it runs again).
 */
export function withHandover(state: ClusterState, evaluation: RouteEvaluation, request: Pick<RouteRequest, 'now'>): RouteEvaluation {
  if (evaluation.route !== ('primary' satisfies RouteKind) || evaluation.eligible.length === 0) return evaluation;
  const handover = handoverInProgress(state, request.now);
  const cause = handover ?? restartInProgress(state, request.now);
  if (cause === undefined) return evaluation;
  const withheld = evaluation.eligible.map((m) =>
    handover !== undefined
      ? { member: m.name, reason: 'switchover' as const, detail: `is handing over the leadership${state.failover?.candidate ? ` to ${state.failover.candidate}` : ''}` }
      : { member: m.name, reason: 'restart' as const, detail: 'is restarting (Patroni)' },
  );
  return { ...evaluation, eligible: [], excluded: [...evaluation.excluded, ...withheld], cause, reason: `no primary in cluster ${state.scope}: ${cause}` };
}
