import type { ClusterFeed } from '../topology/cluster-feed.js';
import type { ClusterState } from '../topology/cluster-state.js';
import type { RouteDecision } from '../routing/route-request.js';
import { systemClock, type Clock } from './clock.js';
import type { HoldOutcome } from './proxy-events.js';

export interface HoldRequest {
  listener: string;
  feed: ClusterFeed;
  /** Re-run on every snapshot; the wait ends when it yields candidates. */
  decide: (state: ClusterState) => RouteDecision;
  timeoutMs: number;
  /** Aborted when the client goes away while held. */
  signal: AbortSignal;
}

export type HoldResult =
  { outcome: 'proceeded'; decision: RouteDecision; state: ClusterState; waitedMs: number } | { outcome: Exclude<HoldOutcome, 'proceeded'>; waitedMs: number; lastReason?: string };

interface Waiter {
  listener: string;
  finish: (result: HoldResult) => void;
  startedAt: number;
}

/**
 * New connections whose route has no candidate wait here instead of failing at once: a
 * switchover leaves writes without a primary for a second or two, and a held client simply
 * sees a slower connect. Each waiter re-decides on every snapshot of its cluster.
 */
export class HoldQueue {
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly clock: Clock = systemClock) {}

  wait(request: HoldRequest): Promise<HoldResult> {
    return new Promise((resolve) => {
      const startedAt = this.clock.now();
      let lastReason: string | undefined;
      const waiter: Waiter = { listener: request.listener, startedAt, finish: () => {} };
      const onAbort = (): void => waiter.finish({ outcome: 'client-gone', waitedMs: this.clock.now() - startedAt });
      let unsubscribe: () => void = () => {};
      const timer = this.clock.setTimeout(
        () => waiter.finish({ outcome: 'timeout', waitedMs: this.clock.now() - startedAt, ...(lastReason !== undefined ? { lastReason } : {}) }),
        request.timeoutMs,
      );
      let finished = false;
      waiter.finish = (result) => {
        if (finished) return;
        finished = true;
        this.clock.clearTimeout(timer);
        unsubscribe();
        request.signal.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        resolve(result);
      };
      const evaluate = (state: ClusterState | undefined): void => {
        if (state === undefined) return;
        const decision = request.decide(state);
        if (decision.candidates.length > 0) {
          waiter.finish({ outcome: 'proceeded', decision, state, waitedMs: this.clock.now() - startedAt });
        } else if (decision.reason !== undefined) {
          lastReason = decision.reason;
        }
      };
      this.waiters.add(waiter);
      if (request.signal.aborted) return onAbort();
      request.signal.addEventListener('abort', onAbort);
      unsubscribe = request.feed.subscribe((change) => evaluate(change.next));
      // The state may have changed between the caller's decision and the subscription.
      evaluate(request.feed.current());
    });
  }

  get size(): number {
    return this.waiters.size;
  }

  /** Ends every wait (optionally only one listener's) with `shutdown`. */
  release(listener?: string): void {
    for (const w of [...this.waiters]) {
      if (listener === undefined || w.listener === listener) w.finish({ outcome: 'shutdown', waitedMs: this.clock.now() - w.startedAt });
    }
  }
}
