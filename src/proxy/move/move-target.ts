import { announcesDemote, demoteBegun } from '../../routing/demote-signal.js';
import { scheduledSwitchoverDueIn } from '../../routing/handover.js';
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
 * Whether sessions on `member` should stop sending new work to it (pure): a switchover the
 * `failover` key asks for now (or one scheduled for a time that has come, less
 * SCHEDULED_SWITCHOVER_LEAD_MS) away from it, while it is still the writable primary, and,
 * when its Patroni announces the demote in its member key, once that key says it has begun.
 * Until then Patroni is only checking the candidate, and the old primary takes writes as
 * before; pausing from the key on would add that time to every session's wait. They go on if
 * the key goes and it stays the primary.
 */
export function switchoverAway(state: ClusterState | undefined, member: string | undefined, now: number): boolean {
  if (state === undefined || member === undefined || !state.switchoverPending) return false;
  if (state.writablePrimary !== member) return false;
  const failover = state.failover;
  if (failover?.leader !== undefined && failover.leader !== member) return false;
  if (failover?.candidate === member) return false;
  if ((scheduledSwitchoverDueIn(failover, now) ?? 0) > 0) return false;
  const primary = state.members.find((m) => m.name === member);
  return primary === undefined || !announcesDemote(primary) || demoteBegun(primary);
}
