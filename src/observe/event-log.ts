import type { HoldOutcome, ProxyEvent, ProxyEvents } from '../proxy/proxy-events.js';
import { moveReasonWords } from '../proxy/move/move-reasons.js';
import type { StateChange } from '../topology/cluster-state.js';
import type { TimelineStep } from './failover-timeline.js';

export type RouterEventKind = 'leader' | 'topology' | 'probe' | 'dcs' | 'failover' | 'fenced' | 'moved' | 'hold-timeout' | 'refused' | 'reload';

/** One line of the router's recent history, for /events and the status page's timeline. */
export interface RouterEvent {
  /** Increases by one per recorded event; lets a poller tell new events from old. */
  seq: number;
  /** ms since epoch of the first occurrence. */
  at: number;
  kind: RouterEventKind;
  message: string;
  cluster?: string;
  listener?: string;
  member?: string;
  /** Identical events in a row are folded into one (a refusal storm must not wash out history). */
  count: number;
  /** ms of the latest occurrence when count > 1. */
  lastAt?: number;
}

export type RouterEventInput = Omit<RouterEvent, 'seq' | 'at' | 'count' | 'lastAt'>;

export interface EventLogOptions {
  /** How many events are kept; the oldest fall off. Default 500. */
  capacity?: number;
  now?: () => number;
}

/**
 * Lines of StateChange.changes that move on every heartbeat: replica lag and the leader's optime.
 * They are in the metrics; in the event timeline they would bury leader changes.
 */
function isHeartbeatNoise(line: string): boolean {
  return /^\S+ lag /.test(line) || line.startsWith('leader optime ');
}

function kindOfChange(line: string): RouterEventKind {
  if (line.startsWith('leader ') || line.startsWith('writable primary ') || line.startsWith('first view')) return 'leader';
  if (line.startsWith('DCS ')) return 'dcs';
  if (line.startsWith('failover request ')) return 'failover';
  // What a member's own REST API said: fresher than the DCS, but chattier.
  if (/^\S+ REST /.test(line)) return 'probe';
  return 'topology';
}

/**
 * A bounded ring of recent events: topology changes (from the cluster feeds), fencing, holds
 * that timed out, refusals and reloads. It implements ProxyEvents so the proxy feeds it directly.
 */
export class EventLog implements ProxyEvents {
  private readonly capacity: number;
  private readonly now: () => number;
  /** Oldest first; trimmed from the front. */
  private readonly events: RouterEvent[] = [];
  private nextSeq = 1;

  constructor(options: EventLogOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? 500);
    this.now = options.now ?? Date.now;
  }

  record(input: RouterEventInput): void {
    const now = this.now();
    const last = this.events[this.events.length - 1];
    if (last !== undefined && sameEvent(last, input)) {
      last.count++;
      last.lastAt = now;
      return;
    }
    this.events.push({ ...input, seq: this.nextSeq++, at: now, count: 1 });
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
  }

  /** Newest first; at most `limit` events. */
  recent(limit = this.capacity): RouterEvent[] {
    const out: RouterEvent[] = [];
    for (let i = this.events.length - 1; i >= 0 && out.length < limit; i--) out.push({ ...this.events[i]! });
    return out;
  }

  get size(): number {
    return this.events.length;
  }

  /** Subscribe this to each ClusterFeed. */
  observeState(change: StateChange): void {
    const cluster = change.next.scope;
    for (const line of change.changes) {
      if (isHeartbeatNoise(line)) continue;
      this.record({ kind: kindOfChange(line), cluster, message: line });
    }
  }

  /** A configuration reload, with what it changed. */
  reloaded(summary: string): void {
    this.record({ kind: 'reload', message: summary });
  }

  /** A step of a switchover/failover as timed by the metrics' FailoverTimeline. */
  failoverStep(cluster: string, step: TimelineStep): void {
    const e = step.episode;
    const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
    if (step.type === 'started') {
      const seen = { 'failover-key': 'failover key set', 'leader-key-gone': 'leader key gone', 'primary-lost': 'writable primary lost' }[e.trigger];
      this.record({ kind: 'failover', cluster, member: e.oldPrimary, message: `failover started: ${seen} (primary was ${e.oldPrimary ?? 'none'})` });
    } else if (step.type === 'phase') {
      const what = {
        demote_begun: `old primary ${e.oldPrimary ?? '?'} began its demote (Patroni's CHECKPOINT, then its shutdown)`,
        old_primary_fenced: `old primary ${e.oldPrimary ?? '?'} no longer used for writes`,
        new_primary_usable: `new primary ${e.newPrimary ?? '?'} usable`,
        first_session_routed: `first session routed to ${e.newPrimary ?? '?'}`,
      }[step.phase];
      this.record({ kind: 'failover', cluster, message: `${what} after ${seconds(step.ms)}` });
    } else if (e.outcome === 'cancelled') {
      this.record({ kind: 'failover', cluster, message: `failover request withdrawn; ${e.oldPrimary ?? 'the primary'} stayed primary` });
    } else if (e.outcome === 'expired') {
      this.record({ kind: 'failover', cluster, message: `no usable primary ${seconds((e.endedAt ?? e.startedAt) - e.startedAt)} after the failover began` });
    }
  }

  connectionAccepted(): void {}
  sessionStarted(): void {}
  sessionEnded(): void {}
  holdStarted(): void {}

  refused(e: ProxyEvent<'refused'>): void {
    // Hold timeouts are recorded by holdEnded; the refusal that follows would say it twice.
    if (e.kind === 'hold_timeout') return;
    this.record({ kind: 'refused', listener: e.listener, message: `${e.sqlstate} ${e.reason}` });
  }

  holdEnded(e: { listener: string; waitedMs: number; outcome: HoldOutcome }): void {
    if (e.outcome !== 'timeout') return;
    this.record({ kind: 'hold-timeout', listener: e.listener, message: `held connection gave up after ${Math.round(e.waitedMs / 1000)} s without a usable member` });
  }

  fenced(e: { listener: string; member: string; reason: string }): void {
    this.record({ kind: 'fenced', listener: e.listener, member: e.member, message: `session on ${e.member} closed: ${e.reason}` });
  }

  cancel(): void {}
  unitRouted(): void {}
  readRetried(): void {}
  replayChecked(): void {}
  readHeld(): void {}

  sessionPinned(e: ProxyEvent<'sessionPinned'>): void {
    this.record({ kind: 'topology', listener: e.listener, message: `a split session pinned itself to the primary: ${e.pin}` });
  }

  // One line per switchover and pair of members, counted: the wait of each move is in /metrics.
  sessionMoved(e: ProxyEvent<'sessionMoved'>): void {
    this.record({ kind: 'moved', listener: e.listener, member: e.to, message: `session moved from ${e.from} to ${e.to} with no error to its client` });
  }

  sessionNotMoved(e: ProxyEvent<'sessionNotMoved'>): void {
    this.record({ kind: 'fenced', listener: e.listener, member: e.member, message: `session on ${e.member} could not move: ${moveReasonWords(e.reason)}` });
  }
}

function sameEvent(a: RouterEvent, b: RouterEventInput): boolean {
  return a.kind === b.kind && a.message === b.message && a.cluster === b.cluster && a.listener === b.listener && a.member === b.member;
}
