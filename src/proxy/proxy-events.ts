import type { RefusalKind } from './refusal.js';

/** How a session ended, for logs and metrics. */
export type SessionEnding = 'client-closed' | 'backend-closed' | 'client-error' | 'backend-error' | 'fenced' | 'shutdown' | 'refused';

export type HoldOutcome = 'proceeded' | 'timeout' | 'client-gone' | 'shutdown';

/**
 * forwarded: a key this process issued; other-worker: handed to the worker that issued it (or,
 * for a member's own key, to the other workers); broadcast: tried on TLS pass-through members;
 * rate-limited; unknown: nowhere to try.
 */
export type CancelOutcome = 'forwarded' | 'other-worker' | 'broadcast' | 'rate-limited' | 'unknown';

/** What a split session's read waited for: its last write's position, a fresh reading of the replica's, the replica link. */
export type ReadAwaiting = 'write-position' | 'replica-position' | 'replica-link';

export interface SessionInfo {
  listener: string;
  member: string;
  clientAddress: string;
}

/**
 * Hooks the proxy calls as connections come and go. The admin/metrics side implements them;
 * they must be cheap and must not throw (the proxy guards against it anyway).
 */
export interface ProxyEvents {
  connectionAccepted(e: { listener: string }): void;
  /** A backend connection is up for this session (before authentication finishes). */
  sessionStarted(e: { listener: string; member: string }): void;
  sessionEnded(e: SessionInfo & { durationMs: number; bytesIn: number; bytesOut: number; ending: SessionEnding }): void;
  /** The router answered a client with a FATAL ErrorResponse of its own; `reason` is its message. */
  refused(e: { listener: string; kind: RefusalKind; reason: string; sqlstate: string }): void;
  holdStarted(e: { listener: string }): void;
  holdEnded(e: { listener: string; waitedMs: number; outcome: HoldOutcome }): void;
  fenced(e: { listener: string; member: string; reason: string }): void;
  cancel(e: { listener: string; outcome: CancelOutcome }): void;
  /** A split session sent a unit (a query, a batch) to a link, and why there. */
  unitRouted(e: { listener: string; destination: 'primary' | 'replica'; reason: string }): void;
  /** A replica refused a statement as a write (25006) before any row: it ran on the primary instead. */
  readRetried(e: { listener: string }): void;
  /** A split session checked a replica's replay position in front of a read: the replica served it, or was behind and the primary did. */
  replayChecked(e: { listener: string; outcome: 'served' | 'behind' }): void;
  /** A split session held a read back, at most replica_wait, for what read-your-writes needed to know first. */
  readHeld(e: { listener: string; awaiting: ReadAwaiting }): void;
  /** A split session pinned itself to the primary (a temp table, LISTEN, ...). */
  sessionPinned(e: { listener: string; pin: string }): void;
  /** A session went on on the new primary; `waitedMs` from losing the old one to the new link being up. */
  sessionMoved(e: { listener: string; from: string; to: string; waitedMs: number }): void;
  /** A session on a primary that went away could not move and was ended; `reason` is a move-reasons code. */
  sessionNotMoved(e: { listener: string; member: string; reason: string }): void;
}

/** The event object one hook receives, e.g. `ProxyEvent<'sessionEnded'>`. */
export type ProxyEvent<K extends keyof ProxyEvents> = Parameters<ProxyEvents[K]>[0];

export const noProxyEvents: ProxyEvents = {
  connectionAccepted() {},
  sessionStarted() {},
  sessionEnded() {},
  refused() {},
  holdStarted() {},
  holdEnded() {},
  fenced() {},
  cancel() {},
  unitRouted() {},
  readRetried() {},
  replayChecked() {},
  readHeld() {},
  sessionPinned() {},
  sessionMoved() {},
  sessionNotMoved() {},
};
