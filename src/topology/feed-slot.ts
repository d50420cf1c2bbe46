import type { ClusterFeed } from './cluster-feed.js';
import type { ClusterState, StateListener } from './cluster-state.js';

/** A feed that can be stopped; what a slot holds. */
export interface StoppableFeed extends ClusterFeed {
  stop(): Promise<void>;
}

/**
 * A stable ClusterFeed whose source can be replaced on reload (new etcd hosts, credentials)
 * without the proxy re-subscribing: the replacement takes over only once it has read a state,
 * so there is no moment without topology.
 */
export class FeedSlot<F extends StoppableFeed = StoppableFeed> implements ClusterFeed {
  readonly scope: string;
  private readonly listeners = new Set<StateListener>();
  private feed: F;
  private unsubscribe: () => void;
  private pending: { feed: F; unsubscribe: () => void } | undefined;

  constructor(feed: F) {
    this.scope = feed.scope;
    this.feed = feed;
    this.unsubscribe = feed.subscribe((change) => this.emit(change.previous, change.next, change.changes));
  }

  current(): ClusterState | undefined {
    return this.feed.current();
  }

  doubt(member: string, why: string): void {
    this.feed.doubt?.(member, why);
  }

  active(): F {
    return this.feed;
  }

  subscribe(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Switches to `next` on its first state; the old feed is stopped then. */
  replace(next: F): void {
    this.dropPending();
    const adopt = (): void => {
      if (next.current() === undefined || this.pending?.feed !== next) return;
      const previous = this.feed.current();
      const old = this.feed;
      this.unsubscribe();
      this.feed = next;
      this.unsubscribe = this.pending.unsubscribe;
      this.pending = undefined;
      const state = next.current();
      if (state !== undefined) this.emit(previous, state, ['topology source replaced by a reload']);
      void old.stop();
    };
    this.pending = {
      feed: next,
      unsubscribe: next.subscribe((change) => {
        if (this.feed === next) this.emit(change.previous, change.next, change.changes);
        else adopt();
      }),
    };
    adopt();
  }

  async stop(): Promise<void> {
    const pending = this.pending?.feed;
    this.dropPending();
    this.unsubscribe();
    await Promise.all([this.feed.stop(), pending?.stop()]);
  }

  private dropPending(): void {
    if (this.pending === undefined) return;
    this.pending.unsubscribe();
    void this.pending.feed.stop();
    this.pending = undefined;
  }

  private emit(previous: ClusterState | undefined, next: ClusterState, changes: readonly string[]): void {
    for (const listener of [...this.listeners]) listener({ previous, next, changes });
  }
}
