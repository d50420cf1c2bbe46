import { memberByName, type ClusterState } from '../topology/cluster-state.js';

/**
 * Why a cluster has no writable primary right now, in words a client can act on.
 * These sentences reach clients verbatim (in a FATAL ErrorResponse), so they name members
 * and say what is happening rather than what check failed.
 */
export function whyNoPrimary(state: ClusterState, now?: number): string {
  if (state.stale) {
    // Patroni demotes a primary that cannot update its leader key within retry_timeout (unless
    // failsafe_mode keeps it): usually before ttl runs out, so say so when its REST API shows it.
    const seen = memberByName(state, state.leader)?.observed;
    if (seen?.reachable === true && seen.role !== undefined && seen.role !== 'primary') {
      return `leader ${state.leader} reports role ${seen.role} on its REST API (Patroni demotes a primary that cannot reach the DCS within retry_timeout); ${staleCause(state, now)}`;
    }
    return staleCause(state, now);
  }
  const leaderName = state.leader;
  if (leaderName === undefined) {
    if (state.config.pause) return 'cluster is paused and has no leader';
    if (state.switchoverPending) {
      const candidate = state.failover?.candidate;
      return candidate === undefined ? 'switchover in progress (leader key released)' : `switchover in progress (leader key released, ${candidate} taking over)`;
    }
    return 'leader election in progress';
  }
  const leader = memberByName(state, leaderName);
  if (leader === undefined) return `leader key names ${leaderName}, which has no member key`;
  if (leader.invalid !== undefined) return `leader ${leaderName} has an unreadable member key (${leader.invalid})`;
  switch (leader.role) {
    case 'promoted':
    case 'replica': {
      // The leader key moves before the member key says primary: measured at over a second.
      if (state.switchoverPending) return `switchover in progress (leader key names ${leaderName}, still promoting)`;
      return `leader key names ${leaderName}, which is still promoting`;
    }
    case 'demoted':
      return `leader ${leaderName} is being demoted`;
    case 'standby_leader':
      return `it is a standby cluster (${leaderName} is its standby leader, read-only)`;
    case 'primary':
      break;
    default:
      return `leader ${leaderName} has role ${leader.role}`;
  }
  if (leader.state !== 'running') return `leader ${leaderName} is not running (state: ${leader.state})`;
  if (leader.host === undefined || leader.port === undefined) return `leader ${leaderName} has no usable conn_url`;
  const seen = leader.observed;
  if (seen !== undefined && !seen.reachable) return `leader ${leaderName} does not answer its REST API`;
  if (seen?.role !== undefined && seen.role !== 'primary') {
    return `leader ${leaderName} reports role ${seen.role} on its REST API`;
  }
  return `leader ${leaderName} is not confirmed writable`;
}

/**
 * "topology stale: DCS unreachable for 31 s" (or "since <time>" when the caller gave no
 * clock), and what the DCS-loss policy does about writes meanwhile, with the time left.
 */
export function staleCause(state: ClusterState, now?: number): string {
  if (state.staleReason !== undefined) return `topology stale: ${state.staleReason}`;
  if (!(state.lastDcsContact > 0)) return 'topology stale: DCS not reached yet';
  if (now === undefined) {
    return `topology stale: DCS unreachable since ${new Date(state.lastDcsContact).toISOString()}${policyNote(state, undefined)}`;
  }
  const sinceMs = Math.max(0, now - state.lastDcsContact);
  return `topology stale: DCS unreachable for ${Math.round(sinceMs / 1000)} s${policyNote(state, sinceMs)}`;
}

function policyNote(state: ClusterState, sinceMs: number | undefined): string {
  const ttl = state.config.ttl;
  switch (state.dcsLossPolicy) {
    case undefined:
      return '';
    case 'refuse':
      return ' (dcs_loss_writes: refuse: no writes until the DCS answers)';
    case 'ttl':
    case 'rest': {
      const beyond = state.dcsLossPolicy === 'rest' ? ", then while the primary's REST API confirms it" : '';
      if (sinceMs === undefined) return ` (dcs_loss_writes: ${state.dcsLossPolicy}: writes until ttl ${ttl} s after the last contact${beyond})`;
      const leftS = Math.round((ttl * 1000 - sinceMs) / 1000);
      return leftS > 0
        ? ` (dcs_loss_writes: ${state.dcsLossPolicy}: writes until ttl ${ttl} s after the last contact, ${leftS} s left${beyond})`
        : ` (dcs_loss_writes: ${state.dcsLossPolicy}: past ttl ${ttl} s${beyond})`;
    }
  }
}
