import type { RouteRequest } from '../routing/route-request.js';
import type { ClusterState, Member } from '../topology/cluster-state.js';
import type { SessionEnding } from './proxy-events.js';
import type { Refusal } from './refusal.js';
import type { BackendLink } from './backend/backend-link.js';

export type SessionPhase = 'startup' | 'holding' | 'connecting' | 'authenticating' | 'relaying' | 'passthrough' | 'closing' | 'closed';

export interface SessionDescription {
  phase: SessionPhase;
  member?: string;
  clientAddress: string;
  startedAt: number;
  bytesIn: number;
  bytesOut: number;
  /** Links beyond the first (listeners with `links`). */
  extraLinks: number;
  /** Why the session cannot open more links, on a listener whose sessions may. */
  singleLinkReason?: string;
  /** A split session that stays on the primary from now on, and why (a temp table, LISTEN, ...). */
  pinnedBy?: string;
}

/** What a listener, fencing and the proxy's drain see of a session. */
export interface SessionHandle {
  readonly phase: SessionPhase;
  /** The member the session uses (set while a candidate is being connected, and after). */
  readonly member: Member | undefined;
  /** The route request after any client override; fencing re-evaluates it. */
  readonly request: RouteRequest | undefined;
  /** A query is running, or the router cannot tell (TLS passed through). */
  isBusy(): boolean;
  /** Ends the session on the router's initiative (fencing, shutdown), telling the client why where it can. */
  terminate(refusal: Refusal, ending: SessionEnding): void;
  /** Ends it at once: sockets destroyed, registrations undone. */
  finish(ending: SessionEnding): void;
  describe(): SessionDescription;
  /**
   * Opens another authenticated link to `member` as the session's user (listeners with
   * `links`); the session owns it and closes it when it ends. Rejects with the reason when the
   * session cannot (no secret, or the member refused the login: PostgreSQL's own answer).
   */
  openLink(member: string): Promise<BackendLink>;
  /** A new state of the session's cluster (a split session re-checks its replica link; a moving one tries the new primary). */
  clusterChanged(state: ClusterState): void;
  /**
   * The session's member stopped being eligible (`reason`): true when the session leaves it
   * between transactions and moves to the next primary; false when it must be closed.
   */
  follow(reason: string): boolean;
}
