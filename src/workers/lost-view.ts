import type { ClusterState } from '../topology/cluster-state.js';

/**
 * The picture a worker must route on once it can no longer hear the primary process, which
 * alone follows the DCS: the last snapshot, stale, and with no writable primary. Unlike a lost
 * DCS (topology.dcs_loss_writes), the DCS itself is fine here and Patroni may hand the primary
 * over at any moment unseen, so no ttl grace applies: new write connections are held and then
 * refused, and write sessions are fenced, with `reason` in what the client reads. Reads keep
 * going to the members it knew, as with a lost DCS. Pure.
 */
export function lostView(state: ClusterState, reason: string): ClusterState {
  const { writablePrimary: _unconfirmed, ...rest } = state;
  return Object.freeze({ ...rest, generation: state.generation + 1, stale: true, staleReason: reason });
}
