import { announcesDemote, demoteBegun } from '../../routing/demote-signal.js';
import { handoverInProgress } from '../../routing/handover.js';
import { restartUnderWay } from '../../routing/restart-signal.js';
import type { ClusterState, Member } from '../../topology/cluster-state.js';

/**
 * Where a moving session may go now (pure): the writable primary, when every signal says it
 * is one and it has an address. Undefined while there is none: the session waits.
 */
export function moveTarget(state: ClusterState | undefined): Member | undefined {
  if (state === undefined || state.writablePrimary === undefined) return undefined;
  const member = state.members.find((m) => m.name === state.writablePrimary);
  if (member === undefined || member.host === undefined || member.port === undefined) return undefined;
  return member;
}

/**
 * Whether sessions on `member` should stop sending new work to it (pure): the switchover that
 * holds new write sessions (`handoverInProgress`: asked for now, or scheduled for a time that
 * has come, away from this writable primary) and, when its Patroni announces the demote in its
 * member key, once that key says it has begun. Until then Patroni is only checking the
 * candidate, and the old primary takes writes as before; pausing from the key on would add
 * that time to every session's wait. They go on if the key goes and it stays the primary.
 */
export function switchoverAway(state: ClusterState | undefined, member: string | undefined, now: number): boolean {
  if (state === undefined || member === undefined || !state.switchoverPending) return false;
  if (state.writablePrimary !== member || handoverInProgress(state, now) === undefined) return false;
  const primary = state.members.find((m) => m.name === member);
  return primary === undefined || !announcesDemote(primary) || demoteBegun(primary);
}

/**
 * Why sessions on `member` should stop sending new work now (pure), or undefined: a switchover
 * away from it (switchoverAway), or a restart Patroni is running or is due to run on it
 * (restartUnderWay). Either way a fast shutdown is moments away.
 */
export function primaryGoingDown(state: ClusterState | undefined, member: string | undefined, now: number): 'switchover' | 'restart' | undefined {
  if (state === undefined) return undefined;
  if (switchoverAway(state, member, now)) return 'switchover';
  return restartUnderWay(state, member, now) ? 'restart' : undefined;
}
