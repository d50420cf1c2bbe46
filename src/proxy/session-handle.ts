import type { RouteRequest } from '../routing/route-request.js';
import type { Member } from '../topology/cluster-state.js';
import type { SessionEnding } from './proxy-events.js';
import type { Refusal } from './refusal.js';

export type SessionPhase = 'startup' | 'holding' | 'connecting' | 'authenticating' | 'relaying' | 'passthrough' | 'closing' | 'closed';

export interface SessionDescription {
  phase: SessionPhase;
  member?: string;
  clientAddress: string;
  startedAt: number;
  bytesIn: number;
  bytesOut: number;
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
}
