import { formatBytes } from '../routing/byte-size.js';
import { memberByName, type ClusterState, type StateChange } from '../topology/cluster-state.js';
import { fencingVerdict, type Fence } from '../routing/fencing-verdict.js';
import type { ListenerRuntime } from './listener-runtime.js';
import type { ProxyEvents } from './proxy-events.js';
import { refusals } from './refusal.js';

/**
 * On every snapshot, closes the sessions of `fence: true` listeners whose member stopped being
 * eligible for the session's route. Runs synchronously inside the feed's callback, so a
 * demoted primary loses its write sessions within the same tick as the state change.
 */
export function fenceSessions(change: StateChange, runtimes: Iterable<ListenerRuntime>, events: ProxyEvents): number {
  const previous = change.previous;
  if (previous === undefined) return 0;
  let closed = 0;
  const now = Date.now();
  for (const runtime of runtimes) {
    if (!runtime.config.fence || runtime.config.cluster !== change.next.scope) continue;
    // Sessions may carry a client override, so verdicts are computed per distinct route.
    const verdicts = new Map<string, Map<string, Fence>>();
    for (const session of [...runtime.sessions]) {
      const member = session.member?.name;
      const request = session.request;
      if (member === undefined || request === undefined) continue;
      let verdict = verdicts.get(request.route);
      if (verdict === undefined) {
        verdict = new Map(fencingVerdict(previous, change.next, { ...request, now }).map((f) => [f.member, f]));
        verdicts.set(request.route, verdict);
      }
      const fence = verdict.get(member);
      if (fence === undefined) continue;
      // A session that can follow the primary leaves this one between transactions and moves instead.
      if (session.follow(fence.reason)) continue;
      events.fenced({ listener: runtime.config.name, member, reason: fence.reason });
      session.terminate(refusals.fenced(fence.reason), 'fenced');
      closed++;
    }
  }
  return closed;
}

/**
 * Closes the sessions on replicas that have been over the listener's max_lag for
 * max_lag_fence_after (LagHysteresis decides who), sparing sessions with a query running when
 * max_lag_fence_busy is false. Returns how many were closed.
 */
export function fenceLaggingSessions(runtime: ListenerRuntime, state: ClusterState, now: number, events: ProxyEvents): number {
  const lag = runtime.lag;
  if (lag === undefined || !runtime.config.fence) return 0;
  const due = lag.fenceDue(now);
  if (due.size === 0) return 0;
  let closed = 0;
  for (const session of [...runtime.sessions]) {
    const name = session.member?.name;
    if (name === undefined || !due.has(name)) continue;
    if (!runtime.config.maxLagFenceBusy && session.isBusy()) continue;
    const member = memberByName(state, name);
    const since = lag.record(name)?.overSince ?? now;
    const lags = member?.lagBytes === undefined ? 'has been' : `lags ${formatBytes(member.lagBytes)},`;
    const reason = `${name} is no longer a replica target in cluster ${state.scope}: ${name} ${lags} over max_lag ${formatBytes(lag.rules.maxLagBytes)} for ${Math.round((now - since) / 1000)} s`;
    events.fenced({ listener: runtime.config.name, member: name, reason });
    session.terminate(refusals.fenced(reason), 'fenced');
    closed++;
  }
  return closed;
}
