import type { Member } from '../topology/cluster-state.js';

/**
 * Patroni 3 and 4 leave `xlog_location` out of a member key they write while their HA loop
 * runs a long action other than a promote (`touch_member` in ha.py). A switchover's demote is
 * one: the leader's HA cycle starts it in the background (CHECKPOINT, then a fast shutdown) and
 * ends by rewriting its member key. So a running primary's key with no WAL position, while a
 * switchover is due, says the shutdown is moments away: the latest notice the DCS gives of it.
 */
export function demoteBegun(member: Member): boolean {
  return member.state === 'running' && member.walPosition === undefined;
}

/**
 * Whether the member's Patroni writes that notice: 3.x and 4.x do (read in their ha.py). For
 * any other, or one that does not say its version, sessions pause as soon as the `failover`
 * key asks for the switchover.
 */
export function announcesDemote(member: Member): boolean {
  const major = /^(\d+)\./.exec(member.version ?? '')?.[1];
  return major !== undefined && Number(major) >= 3;
}
