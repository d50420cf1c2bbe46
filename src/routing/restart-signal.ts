import type { ClusterState, Member } from '../topology/cluster-state.js';
import { announcesDemote, demoteBegun } from './demote-signal.js';
import { SCHEDULED_ACTION_LEAD_MS, scheduledDueIn } from './scheduled-time.js';

/**
 * Milliseconds until the router treats the member's scheduled restart as due (0 or less: due),
 * the same lead as a scheduled switchover's (scheduled-time.ts); undefined without one.
 * Patroni writes the time into the member key (`patronictl restart --scheduled`), then, as for
 * a scheduled switchover, sleeps until it and restarts at once: CHECKPOINT, fast shutdown.
 */
export function scheduledRestartDueIn(member: Member, now: number): number | undefined {
  return scheduledDueIn(member.scheduledRestartAt, now);
}

/**
 * How long after its time a scheduled restart still counts as due: Patroni drops one that is
 * more than 1.5 loop_wait stale instead of running it (should_run_scheduled_action).
 */
export function scheduledRestartStaleAfterMs(state: ClusterState): number {
  return state.config.loopWait * 1500 + SCHEDULED_ACTION_LEAD_MS;
}

/**
 * Whether Patroni is restarting the writable primary `name`, or is about to (pure): its
 * scheduled restart is due (and the cluster is not paused, when Patroni runs none), or its
 * member key says a long action has begun, which on a primary with no switchover asked for is
 * a restart (Patroni 3 and 4 leave `xlog_location` out while one runs: demote-signal.ts).
 * Patroni rewrites the key as the scheduled restart starts, without the schedule and without
 * a WAL position, so the second holds from then until the restart is over.
 */
export function restartUnderWay(state: ClusterState, name: string | undefined, now: number): boolean {
  if (name === undefined || state.writablePrimary !== name || state.switchoverPending) return false;
  const member = state.members.find((m) => m.name === name);
  if (member === undefined) return false;
  if (announcesDemote(member) && demoteBegun(member)) return true;
  const dueIn = scheduledRestartDueIn(member, now);
  return dueIn !== undefined && !state.config.pause && dueIn <= 0 && -dueIn <= scheduledRestartStaleAfterMs(state);
}

/** For a new write session: why the primary is withheld while it restarts, or undefined. */
export function restartInProgress(state: ClusterState, now: number | undefined): string | undefined {
  const primary = state.writablePrimary;
  if (primary === undefined || now === undefined || !restartUnderWay(state, primary, now)) return undefined;
  return `restart in progress (${primary} is restarting)`;
}
