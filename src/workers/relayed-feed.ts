import type { ClusterFeed } from '../topology/cluster-feed.js';
import type { ClusterState, StateChange, StateListener } from '../topology/cluster-state.js';
import { lostView } from './lost-view.js';

/** A snapshot as the primary process relays it: `seq` counts its snapshots of the cluster, across follower replacements. */
export interface RelayedSnapshot {
  scope: string;
  seq: number;
  state: ClusterState;
  changes: readonly string[];
}

/**
 * A worker's view of one cluster, fed by the primary process over IPC: each snapshot is applied
 * in the order the primary published it (by `seq`; a stale or repeated one is dropped), and the
 * worker's proxy subscribes to it exactly as it would to a follower. `seq`, not the state's own
 * generation, orders them: a reload's new follower starts its generations afresh.
 */
export class RelayedFeed implements ClusterFeed {
  private state: ClusterState | undefined;
  private lastSeq = 0;
  private lostReason: string | undefined;
  private readonly listeners = new Set<StateListener>();

  /** `onListenerError`: a subscriber threw (the others still hear of the snapshot); `onDoubt`: tell the primary process, whose follower looks again. */
  constructor(
    readonly scope: string,
    private readonly onListenerError: (err: unknown) => void = () => {},
    private readonly onDoubt: (member: string, why: string) => void = () => {},
  ) {}

  doubt(member: string, why: string): void {
    if (this.lostReason === undefined) this.onDoubt(member, why);
  }

  current(): ClusterState | undefined {
    return this.state;
  }

  subscribe(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies a snapshot newer than the last; returns whether it was applied. */
  apply(snapshot: RelayedSnapshot): boolean {
    if (this.lostReason !== undefined || snapshot.scope !== this.scope || snapshot.seq <= this.lastSeq) return false;
    this.lastSeq = snapshot.seq;
    this.publish(snapshot.state, snapshot.changes);
    return true;
  }

  /**
   * The primary can no longer be heard (its IPC channel closed): from now on the view is
   * stale with no writable primary (lostView), and nothing that still arrives is believed.
   */
  lose(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    if (this.state !== undefined) this.publish(lostView(this.state, reason), [`view lost: ${reason}`]);
  }

  /** Set once the view was lost: why. */
  get lost(): string | undefined {
    return this.lostReason;
  }

  private publish(next: ClusterState, changes: readonly string[]): void {
    const change: StateChange = { previous: this.state, next, changes };
    this.state = next;
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
