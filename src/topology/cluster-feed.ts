import type { ClusterState, StateListener } from './cluster-state.js';

/**
 * What the rest of the router sees of one followed cluster: the latest snapshot and a stream
 * of (previous, next) changes. Implemented by topology/cluster-follower.ts (etcd or REST sources
 * plus the REST prober); tests may implement it with a hand-fed state.
 */
export interface ClusterFeed {
  readonly scope: string;
  /** undefined until the first successful read of the DCS. */
  current(): ClusterState | undefined;
  /** Called synchronously on every new snapshot; returns an unsubscribe function. */
  subscribe(listener: StateListener): () => void;
  /**
   * A session saw `member` contradict the snapshot (a login on the writable primary found it
   * in hot standby): look again now rather than at the next probe. Feeds that cannot, ignore it.
   */
  doubt?(member: string, why: string): void;
}
