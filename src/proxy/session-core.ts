import type net from 'node:net';
import type { Logger } from 'pino';
import type { RouteDecision, RouteRequest } from '../routing/route-request.js';
import type { Member } from '../topology/cluster-state.js';
import type { SessionLinks } from './backend/session-links.js';
import type { StartupRelay } from './backend/startup-relay.js';
import type { ByteRelay } from './byte-relay.js';
import type { TimerSet } from './clock.js';
import type { ClientConnection } from './frontend/client-connection.js';
import type { ListenerRuntime } from './listener-runtime.js';
import type { ClientLoggedIn } from './member-relogin.js';
import type { SessionMover } from './move/session-mover.js';
import type { AttemptResult } from './placement.js';
import type { SessionEnding } from './proxy-events.js';
import type { Refusal } from './refusal.js';
import type { SessionCancelKeys } from './session-cancel-keys.js';
import type { SessionPhase } from './session-handle.js';
import type { SessionServices } from './session-services.js';
import type { SplitRelay } from './split/split-relay.js';

/** One try of one member, as placement calls it. */
export type Attempt = (member: Member, decision: RouteDecision) => Promise<AttemptResult>;

/**
 * What the phases of a session (opening, TLS passed through, placement, the member's startup,
 * the relay, moves) share: the session's state and its ways out. The session implements it;
 * each phase is a file that takes it, so the session itself only holds the lifecycle.
 */
export interface SessionCore {
  readonly listener: ListenerRuntime;
  readonly services: SessionServices;
  readonly client: ClientConnection;
  /** The session's logger, made on first use. */
  readonly log: Logger;
  readonly timers: TimerSet;
  /** Aborted when the client leaves or the session ends: holds and pauses stop waiting. */
  readonly overSignal: AbortSignal;
  readonly links: SessionLinks;
  readonly cancelKeys: SessionCancelKeys;
  phase: SessionPhase;
  member: Member | undefined;
  request: RouteRequest | undefined;
  backend: net.Socket | undefined;
  relay: ByteRelay | SplitRelay | undefined;
  /** Set once the session relays statement by statement (a split listener, or one whose sessions move). */
  split: SplitRelay | undefined;
  /** Takes the session to the next primary when its own goes away (move_sessions). */
  mover: SessionMover | undefined;
  /** Set while a member's startup is being relayed. */
  startupRelay: StartupRelay | undefined;
  ending: SessionEnding | undefined;
  /** The user of the client's startup packet. */
  startupUser: string | undefined;
  /** Set while the client, logged in on a hot standby, waits to be logged in again on the primary. */
  clientLoggedIn: ClientLoggedIn | undefined;

  isOver(): boolean;
  /** What is left of startup_timeout, which runs from the accept to the client's startup packet or first TLS bytes. */
  startupTimeLeft(): number;
  /** Reads the client's first packet again (after the router answered N to its SSLRequest). */
  reopen(sslRefused: boolean): Promise<void>;
  /** The session uses `member` and owns the slot placement reserved there. */
  occupy(member: Member): void;
  /** Gives back the member's slot and forgets its cancel key. */
  releaseMember(): void;
  /** Lets go of the backend of an attempt: the session belongs to no member until the next. */
  releaseBackend(): void;
  attachBackend(backend: net.Socket): void;
  /** The first backend connection of the session is up: observers hear of it once. */
  announceSession(): void;
  refuse(refusal: Refusal): void;
  closeWithError(refusal: Refusal): void;
  /** The statement relay cannot go on (its primary link ended mid-transaction, or a replica link mid-query). */
  statementRelayEnded(why: string): void;
  cancelRunningQuery(): void;
  finish(ending: SessionEnding): void;
}
