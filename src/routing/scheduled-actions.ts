import type { ClusterState } from '../topology/cluster-state.js';
import { scheduledSwitchoverDueIn } from './handover.js';
import { scheduledRestartDueIn, scheduledRestartStaleAfterMs } from './restart-signal.js';

/**
 * Milliseconds until time alone changes what the router does with this state (pure), or
 * undefined: a scheduled switchover or a scheduled restart of the writable primary falls due
 * (Patroni changes no key then: it sleeps until the time), or that restart goes stale (Patroni
 * drops it unrun). Sessions are told the same state again at that moment.
 */
export function nextScheduledChangeIn(state: ClusterState, now: number): number | undefined {
  const times: number[] = [];
  if (state.switchoverPending) {
    const dueIn = scheduledSwitchoverDueIn(state.failover, now);
    if (dueIn !== undefined) times.push(dueIn);
  }
  const primary = state.members.find((m) => m.name === state.writablePrimary);
  const restartDueIn = primary === undefined ? undefined : scheduledRestartDueIn(primary, now);
  if (restartDueIn !== undefined) times.push(restartDueIn, restartDueIn + scheduledRestartStaleAfterMs(state) + 1);
  const ahead = times.filter((t) => t > 0);
  return ahead.length === 0 ? undefined : Math.min(...ahead);
}
