import type net from 'node:net';
import type { Logger } from 'pino';
import type { RouteRequest } from '../routing/route-request.js';
import type { ClusterState, Member } from '../topology/cluster-state.js';
import { errorResponse } from '../wire/serializer.js';
import type { BackendLink } from './backend/backend-link.js';
import { SessionLinks } from './backend/session-links.js';
import type { StartupRelay } from './backend/startup-relay.js';
import type { ByteRelay } from './byte-relay.js';
import type { CancelOwner } from './cancel-registry.js';
import { TimerSet } from './clock.js';
import { ClientConnection } from './frontend/client-connection.js';
import type { ListenerRuntime } from './listener-runtime.js';
import type { ClientLoggedIn } from './member-relogin.js';
import { followPrimary, unmovableLost } from './move/follow-primary.js';
import type { SessionMover } from './move/session-mover.js';
import type { SessionEnding } from './proxy-events.js';
import type { Refusal } from './refusal.js';
import { SessionAccounting } from './session-accounting.js';
import { cancelOn, SessionCancelKeys } from './session-cancel-keys.js';
import type { SessionCore } from './session-core.js';
import type { SessionDescription, SessionHandle, SessionPhase } from './session-handle.js';
import { openSession } from './session-opening.js';
import type { SessionServices } from './session-services.js';
import type { SplitRelay } from './split/split-relay.js';

const KEEPALIVE_DELAY_MS = 30_000;

/**
 * The reason every session's `over` signal carries. abort() without one builds a DOMException
 * (stack trace included) per call; nothing reads the reason, only that the signal fired.
 */
const SESSION_OVER = new Error('session over');

/**
 * One client connection's life, and only that: the client side negotiates and reads the
 * startup (session-opening.ts), placement finds a member (session-placement.ts), the backend
 * side runs the startup there (member-startup.ts), then bytes are relayed (session-relay.ts)
 * until either end goes. The session holds the state those phases share and its ways out:
 * every one passes through `finish`.
 */
export class Session implements SessionHandle, CancelOwner, SessionCore {
  phase: SessionPhase = 'startup';
  member: Member | undefined;
  request: RouteRequest | undefined;
  readonly client: ClientConnection;
  backend: net.Socket | undefined;
  relay: ByteRelay | SplitRelay | undefined;
  split: SplitRelay | undefined;
  mover: SessionMover | undefined;
  startupRelay: StartupRelay | undefined;
  ending: SessionEnding | undefined;
  startupUser: string | undefined;
  clientLoggedIn: ClientLoggedIn | undefined;
  /** What the router may log in to other members with as this session's user, and the links it opened. */
  readonly links: SessionLinks;
  readonly cancelKeys: SessionCancelKeys;
  readonly timers: TimerSet;
  private readonly accounting: SessionAccounting;
  /** Placement reserved a slot on `member` for this session: it is the session's to release. */
  private memberCounted = false;
  /** Aborted when the client leaves or the session ends: holds and pauses stop waiting. */
  private readonly over = new AbortController();
  /** The client sent its FIN first: the backend's close that follows is the client's doing. */
  private clientEnded = false;
  /** Made on the first log line: at the default level most sessions log once, at `warn` never. */
  private logger: Logger | undefined;

  constructor(
    raw: net.Socket,
    readonly listener: ListenerRuntime,
    readonly services: SessionServices,
    private readonly onClosed: (session: Session) => void,
  ) {
    this.client = new ClientConnection(raw, {
      end: () => this.onClientEnd(),
      close: () => this.onClientClose(),
      error: (err) => this.onSocketError('client', err),
    });
    this.accounting = new SessionAccounting(services, listener.config.name, this.client);
    this.timers = new TimerSet(services.clock);
    this.links = new SessionLinks({ connector: services.connector, connectTimeoutMs: listener.config.connectTimeoutMs, isOver: () => this.isOver(), log: () => this.log });
    this.cancelKeys = new SessionCancelKeys(services.cancelRegistry, this, listener.config.name);
  }

  /** The session's logger, with its listener and client bound. */
  get log(): Logger {
    this.logger ??= this.services.logger.child({ listener: this.listener.config.name, client: this.client.address });
    return this.logger;
  }

  get clientAddress(): string {
    return this.client.address;
  }

  get overSignal(): AbortSignal {
    return this.over.signal;
  }

  start(): void {
    this.client.start();
    this.reopen(false).catch((err: unknown) => {
      this.log.error({ err }, 'session failed unexpectedly');
      this.finish('client-error');
    });
  }

  reopen(sslRefused: boolean): Promise<void> {
    return openSession(this, sslRefused);
  }

  /**
   * Ends the session on the router's initiative (fencing, shutdown). A session between backend
   * messages hears why, as PostgreSQL's own pg_terminate_backend does, also while its query
   * runs (that query is cancelled on the member so it does not run on unseen). One in the
   * middle of a backend message has its sockets closed, since a message injected mid-stream
   * would corrupt what the client is reading.
   */
  terminate(refusal: Refusal, ending: SessionEnding): void {
    if (this.isOver()) return;
    this.ending = ending;
    const relaying = this.phase === 'relaying' && this.relay !== undefined;
    if (relaying && !this.relay!.idle.isIdle()) this.cancelRunningQuery();
    const beforeRelay = this.phase === 'startup' || this.phase === 'connecting' || this.phase === 'authenticating' || this.phase === 'holding';
    if (beforeRelay || (relaying && this.relay!.idle.isAtBoundary())) this.closeWithError(refusal);
    else this.finish(ending);
  }

  isBusy(): boolean {
    return this.phase !== 'relaying' || this.relay === undefined || !this.relay.idle.isIdle();
  }

  /** What is left of startup_timeout, which runs from the accept to the client's startup packet or first TLS bytes. */
  startupTimeLeft(): number {
    return Math.max(0, this.accounting.startedAt + this.services.startupTimeoutMs - this.services.clock.now());
  }

  /**
   * Fencing says the session's member is no longer eligible: a session that can move leaves it
   * between transactions and waits for the next primary; any other is closed by the caller.
   */
  follow(reason: string): boolean {
    // A login repeated for a client that already logged in: the attempt checks the member again before it places the session, and gives way if it no longer qualifies.
    if (this.phase === 'connecting' && this.clientLoggedIn !== undefined) return true;
    return followPrimary(this, reason);
  }

  statementRelayEnded(why: string): void {
    if (this.isOver()) return;
    this.log.debug({ reason: why }, 'statement relay ended');
    this.ending = this.ending ?? (this.relay?.clientSaidGoodbye === true ? 'client-closed' : 'backend-closed');
    this.phase = 'closing';
    this.releaseMember();
    this.client.sayGoodbye(undefined, this.timers, () => this.finish(this.ending ?? 'backend-closed'));
  }

  /** A new cluster state: a split session lets go of a replica that no longer qualifies; a moving one tries the new primary. */
  clusterChanged(state: ClusterState): void {
    this.split?.reconsider(state);
    this.mover?.stateChanged(this.member?.name);
  }

  async openLink(memberName: string): Promise<BackendLink> {
    const member = this.services
      .feedFor(this.listener.config.cluster)
      ?.current()
      ?.members.find((m) => m.name === memberName);
    if (member === undefined) throw new Error(`no member ${memberName} in cluster ${this.listener.config.cluster}`);
    return this.links.openOwned(member);
  }

  /** Asks the member to cancel what this session is running, with the key it gave us. */
  cancelRunningQuery(): void {
    const active = this.split?.activeLink();
    cancelOn(active?.member ?? this.member, active?.cancelKey ?? this.cancelKeys.member, this.listener.config.connectTimeoutMs, this.log);
  }

  occupy(member: Member): void {
    this.member = member;
    this.memberCounted = true;
  }

  releaseBackend(): void {
    const backend = this.backend;
    this.backend = undefined;
    this.relay = undefined;
    backend?.removeAllListeners('close');
    backend?.destroy();
    this.releaseMember();
    // Between attempts the session belongs to no member, so fencing that member leaves it be.
    this.member = undefined;
  }

  attachBackend(backend: net.Socket): void {
    this.backend = backend;
    backend.setNoDelay(true);
    backend.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    backend.on('error', (err) => {
      if (backend === this.backend) this.onSocketError('backend', err);
    });
    backend.on('end', () => this.onBackendEnd(backend));
    backend.on('close', () => this.onBackendEnd(backend));
  }

  /** Holds, pauses and reads waiting on the session stop waiting; once (onClientClose then finish both call it). */
  private endWaits(): void {
    if (!this.over.signal.aborted) this.over.abort(SESSION_OVER);
  }

  isOver(): boolean {
    return this.phase === 'closed' || this.phase === 'closing';
  }

  /** A FATAL ErrorResponse of the router's own, then close. */
  refuse(refusal: Refusal): void {
    if (this.isOver()) return;
    this.ending = this.ending ?? 'refused';
    this.services.events.refused({ listener: this.listener.config.name, kind: refusal.kind, sqlstate: refusal.sqlstate, reason: refusal.message });
    this.log.info({ sqlstate: refusal.sqlstate, reason: refusal.message }, 'connection refused');
    this.closeWithError(refusal);
  }

  /** Sends FATAL and closes; the socket lingers briefly so the client reads it before the FIN. */
  closeWithError(refusal: Refusal): void {
    this.phase = 'closing';
    this.endWaits();
    this.startupRelay?.abandon();
    this.relay?.stop();
    this.backend?.destroy();
    this.releaseMember();
    const bytes = errorResponse({ severity: 'FATAL', code: refusal.sqlstate, message: refusal.message });
    this.client.sayGoodbye(bytes, this.timers, () => this.finish(this.ending ?? 'refused'));
  }

  private onSocketError(side: 'client' | 'backend', err: Error): void {
    this.log.debug({ side, err: err.message }, 'socket error');
    if (side === 'backend' && this.startupRelay !== undefined) return this.startupRelay.backendLost(err.message);
    // After the client's goodbye a reset from the backend is the normal end of a TLS session:
    // postgres exits on Terminate without reading the client's close_notify.
    if (side === 'backend' && (this.clientEnded || this.relay?.clientSaidGoodbye === true)) return this.finish(this.ending ?? 'client-closed');
    if (side === 'backend') unmovableLost(this);
    this.finish(side === 'client' ? 'client-error' : 'backend-error');
  }

  private onClientClose(): void {
    this.endWaits();
    this.finish(this.ending ?? 'client-closed');
  }

  /** A client FIN before its bytes flow to the backend (during startup, hold or connect) ends the session. */
  private onClientEnd(): void {
    this.clientEnded = true;
    if (this.relay?.clientFlowing !== true) this.finish(this.ending ?? 'client-closed');
  }

  /** The backend finished (FIN) or closed: pass the end on to the client once its data is out. */
  private onBackendEnd(backend: net.Socket): void {
    if (backend !== this.backend || this.isOver()) return;
    if (this.startupRelay !== undefined) return this.startupRelay.backendLost('closed by the member');
    this.ending = this.ending ?? (this.clientEnded || this.relay?.clientSaidGoodbye === true ? 'client-closed' : 'backend-closed');
    if (this.ending === 'backend-closed') unmovableLost(this);
    this.phase = 'closing';
    this.releaseMember();
    // Client bytes read from now on are discarded, not passed to a member that is gone (a split relay follows its own links).
    if (this.split === undefined) this.relay?.stop();
    // On 'end' every byte of the backend was already written to the client; end() flushes them.
    this.client.sayGoodbye(undefined, this.timers, () => this.finish(this.ending ?? 'refused'));
  }

  announceSession(): void {
    if (this.member !== undefined) this.accounting.started(this.member);
  }

  releaseMember(): void {
    if (this.memberCounted && this.member !== undefined) {
      this.memberCounted = false;
      this.listener.memberSessionClosed(this.member.name);
    }
    this.cancelKeys.member = undefined;
  }

  /** The one way out: every timer cleared, both sockets destroyed, every registration undone. */
  finish(ending: SessionEnding): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.ending = this.ending ?? ending;
    this.timers.clear();
    this.endWaits();
    this.startupRelay?.abandon();
    this.mover?.stop();
    this.split?.stop();
    this.releaseMember();
    this.cancelKeys.release();
    this.links.close();
    this.backend?.destroy();
    this.client.destroy();
    const totals = { member: this.member, bytesIn: this.relay?.bytesIn ?? 0, bytesOut: this.relay?.bytesOut ?? 0, ending: this.ending };
    this.accounting.ended(totals, () => this.log);
    this.onClosed(this);
  }

  /** For the admin snapshot. */
  describe(): SessionDescription {
    return {
      phase: this.phase,
      ...(this.member !== undefined ? { member: this.member.name } : {}),
      clientAddress: this.clientAddress,
      startedAt: this.accounting.startedAt,
      bytesIn: this.relay?.bytesIn ?? 0,
      bytesOut: this.relay?.bytesOut ?? 0,
      extraLinks: this.split?.extraLinks ?? this.links.extraCount,
      ...(this.split?.pinnedBy !== undefined ? { pinnedBy: this.split.pinnedBy } : {}),
      ...(this.links.singleLinkReason !== undefined ? { singleLinkReason: this.links.singleLinkReason } : {}),
    };
  }
}
