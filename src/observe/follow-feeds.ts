import type { ClusterFeed } from '../topology/cluster-feed.js';
import type { StateChange } from '../topology/cluster-state.js';

export interface StateObserver {
  observeState(change: StateChange): void;
}

/**
 * Subscribes observers (metrics, event log) to every cluster feed. A feed that already has a
 * snapshot is handed to them at once (with no change lines), so subscribing after start
 * misses nothing. Returns the unsubscribe function.
 */
export function followFeeds(feeds: ReadonlyMap<string, ClusterFeed>, observers: readonly StateObserver[]): () => void {
  const unsubscribes: Array<() => void> = [];
  for (const feed of feeds.values()) {
    const current = feed.current();
    if (current !== undefined) for (const o of observers) o.observeState({ previous: undefined, next: current, changes: [] });
    unsubscribes.push(feed.subscribe((change) => observers.forEach((o) => o.observeState(change))));
  }
  return () => unsubscribes.splice(0).forEach((u) => u());
}
