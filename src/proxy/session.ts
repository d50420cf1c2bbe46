import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from 'pino';
import type { RouteDecision, RouteRequest } from '../routing/route-request.js';
import { routeNoun } from '../routing/route-words.js';
import { parseTargetOverride, stripTargetOverride } from '../routing/target-override.js';
import type { ClusterFeed } from '../topology/cluster-feed.js';
import type { ClusterState, Member } from '../topology/cluster-state.js';
import { backendKeyData, errorResponse, negotiationAnswer, startupMessage } from '../wire/serializer.js';
import { sendCancel } from './backend/cancel-sender.js';
import { BackendConnectError, type BackendConnector } from './backend/connector.js';
import type { AuthQueryResult } from './backend/auth/auth-query.js';
import type { LoginContext } from './backend/login-watch.js';
import type { BackendLink } from './backend/backend-link.js';
import { SessionLinks } from './backend/session-links.js';
import { StartupRelay } from './backend/startup-relay.js';
import type { ReplayPosition } from './split/read-your-writes.js';
import { SplitRelay } from './split/split-relay.js';
import { moveReasonWords } from './move/move-reasons.js';
import { SessionMover } from './move/session-mover.js';
import { holdTimeoutMs } from '../routing/hold-timeout.js';
import { chooseBackends } from '../routing/choose-backends.js';
import { ByteRelay } from './byte-relay.js';
import { forwardCancel, type CancelPeers } from './cancel-forwarding.js';
import type { CancelKey, CancelOwner, CancelRegistry } from './cancel-registry.js';
import { TimerSet, type Clock } from './clock.js';
import { ClientConnection } from './frontend/client-connection.js';
import { receiveFirstPacket } from './frontend/first-packet-reader.js';
import { negotiate, type ClientOpening } from './frontend/negotiation.js';
import type { HoldQueue } from './hold-queue.js';
import type { ListenerRuntime } from './listener-runtime.js';
import { placeSession, type AttemptResult, type PlacementHost } from './placement.js';
import type { ProxyEvents, SessionEnding } from './proxy-events.js';
import { refusals, type Refusal } from './refusal.js';
import type { SessionDescription, SessionHandle, SessionPhase } from './session-handle.js';

/** What every session shares: the proxy's services, passed in (no module singletons). */
export interface SessionServices {
  feedFor(scope: string): ClusterFeed | undefined;
  /** Set when the router terminates TLS (cert and key configured). */
  serverTls: tls.SecureContext | undefined;
  connector: BackendConnector;
  startupTimeoutMs: number;
  authenticationTimeoutMs: number;
  targetPrefix: string;
  /** The user's stored secret from the cluster's auth_query, when `auth:` is configured. */
  secretLookup?: (cluster: string, user: string) => Promise<AuthQueryResult>;
  /** Where a replica has replayed to (split listeners). */
  replayPosition(cluster: string, member: string): ReplayPosition | undefined;
  /** Resolves once a replay position read from now on is known (or could not be read). */
  refreshReplayPosition(cluster: string, member: string): Promise<void>;
  cancelRegistry: CancelRegistry;
  /** The other worker processes, when the router runs several (a cancel may belong to one of them). */
  cancelPeers?: CancelPeers;
  holdQueue: HoldQueue;
  events: ProxyEvents;
  logger: Logger;
  clock: Clock;
}

const KEEPALIVE_DELAY_MS = 30_000;
/** Texts a listener remembers as refused by a replica (25006); beyond this it stops learning. */
const MAX_LEARNED_WRITES = 10_000;

/** How long a refused SSLRequest client has to send its plain startup, to hear why (at least). */
const SSL_REFUSAL_GRACE_MS = 2_000;

type Attempt = (member: Member, decision: RouteDecision) => Promise<AttemptResult>;

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The reason every session's `over` signal carries. abort() without one builds a DOMException
 * (stack trace included) per call; nothing reads the reason, only that the signal fired.
 */
const SESSION_OVER = new Error('session over');

/**
 * One client connection's life, and only that: the client side negotiates and reads the
 * startup, placement finds a member, the backend side runs the startup there, then bytes are
 * relayed until either end goes. Every way out passes through `finish`.
 */
export class Session implements SessionHandle, CancelOwner {
  phase: SessionPhase = 'startup';
  member: Member | undefined;
  request: RouteRequest | undefined;
  private readonly client: ClientConnection;
  private backend: net.Socket | undefined;
  private relay: ByteRelay | SplitRelay | undefined;
  /** Set once the session relays statement by statement (a split listener, or one whose sessions move). */
  private split: SplitRelay | undefined;
  /** Takes the session to the next primary when its own goes away (move_sessions). */
  private mover: SessionMover | undefined;
  /** Set while a member's startup is being relayed. */
  private startupRelay: StartupRelay | undefined;
  private readonly startedAt: number;
  private memberCounted = false;
  private sessionStartedEmitted = false;
  /** The BackendKeyData of the member the session is on now. */
  private memberCancelKey: CancelKey | undefined;
  /** The key the client was given, the router's own: it stays the same whichever member serves. */
  private clientCancelKey: CancelKey | undefined;
  /** The user of the client's startup packet. */
  private startupUser: string | undefined;
  /** What the router may log in to other members with as this session's user, and the links it opened. */
  private readonly links: SessionLinks;
  private readonly timers: TimerSet;
  /** Aborted when the client leaves or the session ends: holds and pauses stop waiting. */
  private readonly over = new AbortController();
  private ending: SessionEnding | undefined;
  /** The client sent its FIN first: the backend's close that follows is the client's doing. */
  private clientEnded = false;
  /** Made on the first log line: at the default level most sessions log once, at `warn` never. */
  private logger: Logger | undefined;

  constructor(
    raw: net.Socket,
    private readonly listener: ListenerRuntime,
    private readonly services: SessionServices,
    private readonly onClosed: (session: Session) => void,
  ) {
    this.client = new ClientConnection(raw, {
      end: () => this.onClientEnd(),
      close: () => this.onClientClose(),
      error: (err) => this.onSocketError('client', err),
    });
    this.startedAt = services.clock.now();
    this.timers = new TimerSet(services.clock);
    this.links = new SessionLinks({ connector: services.connector, connectTimeoutMs: listener.config.connectTimeoutMs, isOver: () => this.isOver(), log: () => this.log });
  }

  /** The session's logger, with its listener and client bound. */
  private get log(): Logger {
    this.logger ??= this.services.logger.child({ listener: this.listener.config.name, client: this.client.address });
    return this.logger;
  }

  get clientAddress(): string {
    return this.client.address;
  }

  start(): void {
    this.client.start();
    this.run().catch((err: unknown) => {
      this.log.error({ err }, 'session failed unexpectedly');
      this.finish('client-error');
    });
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

  /** `sslRefused`: a member answered the client's SSLRequest N, and the router said so; a plain startup follows. */
  isBusy(): boolean {
    return this.phase !== 'relaying' || this.relay === undefined || !this.relay.idle.isIdle();
  }

  private async run(sslRefused = false): Promise<void> {
    const opening = await negotiate(this.client, { serverTls: this.services.serverTls, timeoutMs: this.startupTimeLeft(), timers: this.timers, sslRefused });
    if (this.isOver()) return;
    if (opening.kind !== 'gone' && opening.kind !== 'cancel' && this.listener.overCapacity()) {
      const refusal = refusals.tooManyClients(this.listener.config.name, this.listener.config.maxClients);
      if (opening.kind !== 'tls-passthrough') return this.refuse(refusal);
      return opening.via === 'ssl-request' ? this.refuseSslRequest(refusal) : this.finishRefused(refusal);
    }
    switch (opening.kind) {
      case 'gone':
        return this.finish('client-closed');
      case 'refused':
        return this.refuse(opening.refusal);
      case 'cancel':
        return this.relayCancel(opening);
      case 'tls-passthrough':
        return opening.via === 'ssl-request' ? this.passSslRequestThrough() : this.passDirectTlsThrough(opening.clientHello);
      case 'startup':
        return this.startup(opening);
    }
  }

  private async startup(opening: Extract<ClientOpening, { kind: 'startup' }>): Promise<void> {
    const config = this.listener.config;
    if (!opening.params['user']) return this.refuse(refusals.noUser());
    const override = parseTargetOverride(opening.params, this.services.targetPrefix, config.allowedTargets, config.name);
    if (override.error !== undefined) return this.refuse(refusals.targetRefused(config.name, override.error, override.errorKind === 'unknown'));
    const params = stripTargetOverride(opening.params, this.services.targetPrefix);
    this.startupUser = opening.params['user'];
    this.links.startedWith(params);
    this.request = this.listener.routeRequest(override.target ?? config.route);
    const message = startupMessage(opening.major, opening.minor, params);
    const refusal = await this.place(this.request, (member, decision) => this.startOn(member, decision, message, opening.rest));
    if (refusal !== undefined) this.refuse(refusal);
  }

  /** What is left of startup_timeout, which runs from the accept to the client's startup packet or first TLS bytes. */
  private startupTimeLeft(): number {
    return Math.max(0, this.startedAt + this.services.startupTimeoutMs - this.services.clock.now());
  }

  /**
   * TLS the router cannot open (no certificate): the member chosen now answers the client's
   * SSLRequest, and with S the bytes pass through untouched, as HAProxy's TCP mode does. A
   * member that does no TLS answers N: the router tells the client so and reads its plain
   * startup itself, as if there had been nothing to pass through.
   */
  private async passSslRequestThrough(): Promise<void> {
    this.request = this.listener.routeRequest();
    let memberRefusedTls = false;
    const refusal = await this.place(this.request, async (member, decision) => {
      const connected = await this.connectTo(member, decision, 'tls');
      if (connected.kind !== 'connected') return connected;
      if (!connected.tlsAccepted) {
        memberRefusedTls = true;
        this.log.debug({ member: member.name }, 'member answered N to the SSLRequest: reading the plain startup instead');
        this.releaseBackend();
        return { kind: 'placed' };
      }
      this.client.write(negotiationAnswer(true));
      this.relayTlsUntouched(connected.socket, Buffer.alloc(0));
      return { kind: 'placed' };
    });
    if (refusal !== undefined) return this.refuseSslRequest(refusal);
    if (!memberRefusedTls || this.isOver()) return;
    this.phase = 'startup';
    this.client.write(negotiationAnswer(false));
    return this.run(true);
  }

  /** A direct-TLS ClientHello (PostgreSQL 17 sslnegotiation=direct): its bytes go to the member chosen now. */
  private async passDirectTlsThrough(clientHello: Buffer): Promise<void> {
    this.request = this.listener.routeRequest();
    const refusal = await this.place(this.request, async (member, decision) => {
      const connected = await this.connectTo(member, decision, 'raw');
      if (connected.kind !== 'connected') return connected;
      this.relayTlsUntouched(connected.socket, clientHello);
      return { kind: 'placed' };
    });
    // The client is mid-handshake: a plaintext FATAL would be garbage to it.
    if (refusal !== undefined) this.finishRefused(refusal);
  }

  private relayTlsUntouched(backend: net.Socket, initialBytes: Buffer): void {
    this.phase = 'passthrough';
    const relay = (this.relay = new ByteRelay(this.client.stream, backend));
    // The client's first TLS bytes must come within startup_timeout: until then the member holds a
    // backend for nothing (PostgreSQL's own authentication_timeout is a minute).
    if (initialBytes.length === 0) {
      const silence = this.timers.after(this.startupTimeLeft(), () => this.finishRefused(refusals.startupTimeout()));
      this.client.stream.once('data', () => this.timers.cancel(silence));
    } else backend.write(initialBytes);
    relay.startClientToBackend(Buffer.alloc(0));
    relay.startBackendToClient(Buffer.alloc(0));
  }

  /**
   * A client waiting for the answer to its SSLRequest reads anything else as "server sent an
   * error response during SSL exchange", without the message (libpq). So the router answers N,
   * reads the plain startup libpq then sends (sslmode=prefer), and only then says why; a client
   * that insists on TLS closes after the N.
   */
  private async refuseSslRequest(refusal: Refusal): Promise<void> {
    if (this.isOver()) return;
    this.client.write(negotiationAnswer(false));
    const grace = new AbortController();
    const timer = this.timers.after(Math.max(this.startupTimeLeft(), SSL_REFUSAL_GRACE_MS), () => grace.abort());
    const next = await receiveFirstPacket(this.client.stream, false, AbortSignal.any([grace.signal, this.over.signal]));
    this.timers.cancel(timer);
    if (next.kind === 'gone') this.ending = this.ending ?? 'refused';
    this.refuse(refusal);
  }

  /** A refusal the client cannot be told in words (TLS passed through): counted and logged, then closed. */
  private finishRefused(refusal: Refusal): void {
    if (this.isOver()) return;
    this.services.events.refused({ listener: this.listener.config.name, kind: refusal.kind, sqlstate: refusal.sqlstate, reason: refusal.message });
    this.log.info({ sqlstate: refusal.sqlstate, reason: refusal.message }, 'connection refused (TLS passed through: closed without a message)');
    this.finish('refused');
  }

  /** Places the session; returns what to tell the client when no member took it. */
  private async place(request: RouteRequest, attempt: Attempt): Promise<Refusal | undefined> {
    const result = await placeSession(this.placementHost(attempt), request);
    if (result.kind === 'refused') return result.refusal;
    if (result.kind === 'over' && !this.isOver()) this.finish('client-closed');
    return undefined;
  }

  private placementHost(attempt: Attempt): PlacementHost {
    const sessionLog = (): Logger => this.log;
    return {
      listener: this.listener,
      feed: this.services.feedFor(this.listener.config.cluster),
      holdQueue: this.services.holdQueue,
      events: this.services.events,
      clock: this.services.clock,
      // Placement logs only when it holds or retries: the child logger is made then, if ever.
      get log() {
        return sessionLog();
      },
      signal: this.over.signal,
      isOver: () => this.isOver(),
      setPhase: (phase) => {
        if (!this.isOver()) this.phase = phase;
      },
      attempt,
    };
  }

  /**
   * Connects to a candidate: `startup` with the backend TLS mode (the router reads the
   * startup), `raw` plain TCP, `tls` plain TCP plus the client's SSLRequest on its behalf.
   * A socket, or what placement should do instead.
   */
  private async connectTo(member: Member, decision: RouteDecision, how: 'startup' | 'raw' | 'tls'): Promise<{ kind: 'connected'; socket: net.Socket; tlsAccepted: boolean } | AttemptResult> {
    const config = this.listener.config;
    this.member = member;
    // Placement reserved the member's slot for this session: it is ours to release from here.
    this.memberCounted = true;
    this.phase = 'connecting';
    const address = { host: member.host as string, port: member.port as number };
    let backend: net.Socket;
    let tlsAccepted = false;
    try {
      const { connector } = this.services;
      if (how === 'tls') ({ socket: backend, accepted: tlsAccepted } = await connector.connectForTls(address, config.connectTimeoutMs));
      else backend = how === 'raw' ? await connector.connectRaw(address, config.connectTimeoutMs) : await connector.connect(address, config.connectTimeoutMs);
    } catch (err) {
      if (this.isOver()) return { kind: 'over' };
      const message = errorText(err);
      this.log.warn({ member: member.name, err: message }, 'backend connect failed');
      if (err instanceof BackendConnectError && !err.retryable) {
        // A certificate the router must not trust: waiting will not change it.
        const where = `${routeNoun(decision.routeUsed)} ${member.name} (${member.host}:${member.port}) of cluster ${config.cluster}`;
        this.refuse(refusals.backendUnreachable(config.name, `could not connect to ${where}: ${message}`));
        return { kind: 'over' };
      }
      this.releaseMember();
      this.member = undefined;
      return { kind: 'gave-way', why: message };
    }
    if (this.isOver()) {
      backend.destroy();
      return { kind: 'over' };
    }
    this.attachBackend(backend);
    this.announceSession();
    return { kind: 'connected', socket: backend, tlsAccepted };
  }

  /** Runs the client's startup on `member`, relaying authentication untouched. */
  private async startOn(member: Member, decision: RouteDecision, message: Buffer, clientRest: Buffer): Promise<AttemptResult> {
    const connected = await this.connectTo(member, decision, 'startup');
    if (connected.kind !== 'connected') return connected;
    const backend = connected.socket;
    const config = this.listener.config;
    this.phase = 'authenticating';
    const relay = (this.relay = new ByteRelay(this.client.stream, backend));
    const startup = (this.startupRelay = new StartupRelay({
      backend,
      startupMessage: message,
      writeRoute: decision.routeUsed === 'primary',
      canRetry: true,
      client: this.client.stream,
      clientRest,
      login: this.loginContext(),
      toClient: (bytes) => relay.writeClient(bytes),
      onCancelKey: (key) => this.keyForClient(key),
      firstAnswerTimeoutMs: config.connectTimeoutMs,
      timeoutMs: this.services.authenticationTimeoutMs,
      timers: this.timers,
    }));
    const outcome = await startup.run();
    this.startupRelay = undefined;
    switch (outcome.kind) {
      case 'ready':
        this.phase = 'relaying';
        this.links.learned(outcome.secret);
        if (!this.links.possible && config.links) this.log.info({ member: member.name, reason: this.links.singleLinkReason }, 'session stays on one member');
        if (config.split !== undefined || (config.moveSessions && this.links.possible)) {
          this.startSplit(member, backend, relay.bytesOut, outcome.clientRest, outcome.rest);
          return { kind: 'placed' };
        }
        relay.startClientToBackend(outcome.clientRest);
        relay.startBackendToClient(outcome.rest);
        return { kind: 'placed' };
      case 'login-refused':
        this.refuse(refusals.loginRefused(outcome.error.code, outcome.error.message));
        return { kind: 'over' };
      case 'give-way': {
        this.log.info({ member: member.name, reason: outcome.why }, 'member could not take the session');
        const why = `${member.name} ${outcome.why}`;
        this.giveWay(why);
        return outcome.full === undefined ? { kind: 'gave-way', why } : { kind: 'gave-way', why, full: outcome.full };
      }
      case 'lost':
        if (!outcome.reachedClient) return this.giveWay(`connection to ${member.name} lost during startup: ${outcome.why}`);
        this.ending = 'backend-error';
        this.closeWithError(refusals.memberLost(config.name, member.name, outcome.why));
        return { kind: 'over' };
      case 'read-only':
        this.refuse(refusals.memberReadOnly(config.name, member.name, config.cluster));
        return { kind: 'over' };
      case 'protocol-violation':
        this.refuse(refusals.memberProtocolViolation(config.name, member.name, outcome.what));
        return { kind: 'over' };
      case 'timed-out':
        this.refuse(refusals.authenticationTimeout(config.name, member.name, this.services.authenticationTimeoutMs));
        return { kind: 'over' };
      case 'abandoned':
        return { kind: 'over' };
    }
  }

  /**
   * A session relayed statement by statement from ReadyForQuery on: on a split listener units
   * go to the primary link or, when safe, to a replica link; on a listener whose sessions move,
   * the relay follows the session's state so that it can go on on the next primary.
   */
  private startSplit(member: Member, backend: net.Socket, startupBytes: number, clientRest: Buffer, backendRest: Buffer): void {
    const config = this.listener.config;
    const runtime = this.listener.split;
    if (runtime === undefined) return;
    const settings = config.split;
    const listener = config.name;
    const events = this.services.events;
    // The relay owns the primary link's end from here: a link lost between transactions may be moved past.
    for (const event of ['end', 'close', 'error'] as const) backend.removeAllListeners(event);
    const split = new SplitRelay({
      client: this.client.stream,
      primary: { socket: backend, member, cancelKey: this.memberCancelKey },
      classify: (text, prepared) => {
        const verdict = runtime.classifier.classify(text, prepared.lookup);
        return runtime.learnedWrites.has(text) ? { ...verdict, destination: 'primary', reason: 'write', detail: 'refused-by-replica' } : verdict;
      },
      consistency: settings?.consistency ?? 'eventual',
      replicas: settings !== undefined,
      replayPosition: (name) => this.services.replayPosition(config.cluster, name),
      refreshPosition: (name) => this.services.refreshReplayPosition(config.cluster, name),
      replicaWaitMs: settings?.replicaWaitMs ?? 0,
      openReplica: () => this.openReplicaLink(),
      replicaStillUsable: (name) => this.replicaCandidates().some((m) => m.name === name),
      routed: (destination, reason) => {
        runtime.stats.routed(destination, reason);
        events.unitRouted({ listener, destination, reason });
      },
      retriedOnPrimary: (text) => {
        if (text !== undefined && runtime.learnedWrites.size < MAX_LEARNED_WRITES) runtime.learnedWrites.add(text);
        runtime.stats.retriedOnPrimary++;
        events.readRetried({ listener });
      },
      pinned: (pin) => events.sessionPinned({ listener, pin }),
      primaryLost: (why, blocker) => this.primaryLostUnderWork(why, blocker),
      primaryGone: (why) => this.primaryGone(why),
      clientLeft: () => this.finish('client-closed'),
      log: this.log,
    });
    split.bytesOut = startupBytes;
    this.relay = this.split = split;
    if (config.moveSessions && this.links.possible) this.mover = this.createMover(split);
    split.start(clientRest, backendRest);
  }

  private createMover(split: SplitRelay): SessionMover {
    const config = this.listener.config;
    return new SessionMover({
      state: () => this.services.feedFor(config.cluster)?.current(),
      now: () => this.services.clock.now(),
      timers: this.timers,
      timeoutMs: () => holdTimeoutMs(config.moveTimeoutMs === 'auto' ? config.holdTimeoutMs : config.moveTimeoutMs, this.services.feedFor(config.cluster)?.current()?.config),
      openLink: (member) => this.links.open(member),
      relay: split,
      moved: (link, from, waitedMs) => this.movedTo(link, from, waitedMs),
      gaveUp: (from, why, detail) => {
        this.services.events.sessionNotMoved({ listener: config.name, member: from, reason: why });
        this.ending = 'backend-closed';
        this.refuse(refusals.moveTimeout(config.name, from, detail));
      },
      log: this.log,
    });
  }

  /** The primary link ended between transactions: a session that may move waits for the next primary. */
  private primaryGone(why: string): boolean {
    const from = this.member?.name ?? '?';
    if (this.mover === undefined || this.isOver()) {
      this.services.events.sessionNotMoved({ listener: this.listener.config.name, member: from, reason: this.mover === undefined ? this.notMovableReason() : 'session-over' });
      return false;
    }
    this.backend = undefined;
    this.releaseMember();
    this.mover.begin(from, why);
    return true;
  }

  /**
   * The primary link ended under the client's work or state that cannot move (a crash mid-query):
   * counted as not moved, with why, as a session between transactions is in primaryGone.
   */
  private primaryLostUnderWork(why: string, blocker: string | undefined): void {
    // A client's Terminate is work in flight too, and the member's close its answer: not counted.
    if (blocker !== undefined && !this.isOver() && this.relay?.clientSaidGoodbye !== true) {
      const reason = this.listener.config.moveSessions ? blocker : 'move-off';
      this.services.events.sessionNotMoved({ listener: this.listener.config.name, member: this.member?.name ?? '?', reason });
    }
    this.statementRelayEnded(why);
  }

  /** The session's primary link is the new one: its member, slot and cancel key follow. */
  private movedTo(link: BackendLink, from: string, waitedMs: number): void {
    this.member = link.member;
    this.listener.adopt(link.member.name);
    this.memberCounted = true;
    this.memberCancelKey = link.cancelKey;
    this.backend = link.socket;
    this.services.events.sessionMoved({ listener: this.listener.config.name, from, to: link.member.name, waitedMs });
    this.log.info({ from, to: link.member.name, waitedMs }, 'session moved to the new primary');
  }

  /**
   * A session on a move_sessions listener that could never move (it relays bytes on one member,
   * e.g. no secret was learned at its login) lost its primary: counted as not moved, with why,
   * as split and movable sessions are. Only while relaying, and not after a fencing (counted there).
   */
  private unmovableLost(): void {
    if (!this.listener.config.moveSessions || this.split !== undefined || this.phase !== 'relaying' || this.ending === 'fenced') return;
    this.services.events.sessionNotMoved({ listener: this.listener.config.name, member: this.member?.name ?? '?', reason: this.notMovableReason() });
  }

  /** Why a session on a move_sessions listener is not able to move at all. */
  private notMovableReason(): string {
    if (!this.listener.config.moveSessions) return 'move-off';
    return this.links.possible ? 'session-over' : 'no-secret';
  }

  /**
   * Fencing says the session's member is no longer eligible: a session that can move leaves it
   * between transactions and waits for the next primary; any other is closed by the caller.
   */
  follow(reason: string): boolean {
    const split = this.split;
    if (!this.listener.config.moveSessions || this.phase !== 'relaying' || this.isOver()) return false;
    const blocker = this.mover === undefined ? 'no-secret' : split?.moveBlocker();
    const from = this.member?.name ?? '?';
    if (blocker !== undefined || split === undefined || this.mover === undefined || !split.leavePrimary()) {
      const code = blocker ?? 'query-running';
      this.services.events.sessionNotMoved({ listener: this.listener.config.name, member: from, reason: code });
      // Said in the 57P01 the fencing sends: why it could not move.
      this.ending = 'fenced';
      if (this.relay !== undefined && !this.relay.idle.isIdle()) this.cancelRunningQuery();
      this.closeWithError(refusals.notMoved(this.listener.config.name, from, reason, moveReasonWords(code)));
      return true;
    }
    this.backend = undefined;
    this.releaseMember();
    this.mover.begin(from, reason);
    return true;
  }

  /** The statement relay cannot go on (its primary link ended mid-transaction, or a replica link mid-query). */
  private statementRelayEnded(why: string): void {
    if (this.isOver()) return;
    this.log.debug({ reason: why }, 'statement relay ended');
    this.ending = this.ending ?? (this.relay?.clientSaidGoodbye === true ? 'client-closed' : 'backend-closed');
    this.phase = 'closing';
    this.releaseMember();
    this.client.sayGoodbye(undefined, this.timers, () => this.finish(this.ending ?? 'backend-closed'));
  }

  /** The replicas a split session's replica link may use now, best first (the listener's tags, max_lag, balance). */
  private replicaCandidates(): readonly Member[] {
    const settings = this.listener.config.split;
    const state = this.services.feedFor(this.listener.config.cluster)?.current();
    if (settings === undefined || state === undefined) return [];
    const now = this.services.clock.now();
    const lagHeld = this.listener.lag?.held(now);
    const request = { ...this.listener.routeRequest(settings.replicaRoute), now, ...(lagHeld !== undefined ? { lagHeld } : {}) };
    return chooseBackends(state, request, this.listener.memory).candidates;
  }

  private async openReplicaLink(): Promise<BackendLink | { none: string }> {
    const candidate = this.replicaCandidates()[0];
    if (candidate === undefined) return { none: 'no replica qualifies' };
    if (!this.links.possible) return { none: this.links.singleLinkReason ?? 'no secret to log in with' };
    return this.links.openOwned(candidate);
  }

  /** A new cluster state: a split session lets go of a replica that no longer qualifies; a moving one tries the new primary. */
  clusterChanged(state: ClusterState): void {
    this.split?.reconsider(state);
    this.mover?.stateChanged(this.member?.name);
  }

  /** What the login relay needs to know about this session's two connections. */
  private loginContext(): LoginContext {
    const user = this.startupUser ?? '';
    const lookup = this.services.secretLookup;
    const cluster = this.listener.config.cluster;
    return {
      user,
      clientTlsTerminated: this.client.tlsTerminated,
      learnSecret: this.listener.config.links,
      ...(lookup !== undefined ? { lookup: () => lookup(cluster, user) } : {}),
    };
  }

  async openLink(memberName: string): Promise<BackendLink> {
    const member = this.services.feedFor(this.listener.config.cluster)?.current()?.members.find((m) => m.name === memberName);
    if (member === undefined) throw new Error(`no member ${memberName} in cluster ${this.listener.config.cluster}`);
    return this.links.openOwned(member);
  }

  /** Drops a backend that refused the startup before anything reached the client. */
  private giveWay(why: string): AttemptResult {
    this.log.info({ member: this.member?.name, reason: why }, 'member could not take the session; trying the next candidate');
    this.releaseBackend();
    return { kind: 'gave-way', why };
  }

  /** Lets go of the backend of an attempt: the session belongs to no member until the next. */
  private releaseBackend(): void {
    const backend = this.backend;
    this.backend = undefined;
    this.relay = undefined;
    backend?.removeAllListeners('close');
    backend?.destroy();
    this.releaseMember();
    // Between attempts the session belongs to no member, so fencing that member leaves it be.
    this.member = undefined;
  }

  private attachBackend(backend: net.Socket): void {
    this.backend = backend;
    backend.setNoDelay(true);
    backend.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    backend.on('error', (err) => {
      if (backend === this.backend) this.onSocketError('backend', err);
    });
    backend.on('end', () => this.onBackendEnd(backend));
    backend.on('close', () => this.onBackendEnd(backend));
  }

  /** Keeps the member's cancel key and gives the client the router's own in its place. */
  private keyForClient(memberKey: CancelKey): Buffer {
    this.memberCancelKey = memberKey;
    this.clientCancelKey ??= this.services.cancelRegistry.issue(this, this.listener.config.name, memberKey.secret.length);
    return backendKeyData(this.clientCancelKey.processId, this.clientCancelKey.secret);
  }

  /** Asks the member to cancel what this session is running, with the key it gave us. */
  cancelRunningQuery(): void {
    const active = this.split?.activeLink();
    const member = active?.member ?? this.member;
    const key = active?.cancelKey ?? this.memberCancelKey;
    if (key === undefined || member?.host === undefined || member.port === undefined) return;
    sendCancel({ host: member.host, port: member.port }, key.processId, key.secret, this.listener.config.connectTimeoutMs, this.log);
  }

  private relayCancel(key: { processId: number; secret: Buffer }): void {
    const { cancelRegistry: registry, cancelPeers: peers, serverTls, clock } = this.services;
    const outcome = forwardCancel(key, this.listener, { registry, now: clock.now(), log: this.log, passThrough: serverTls === undefined, ...(peers !== undefined ? { peers } : {}) });
    this.services.events.cancel({ listener: this.listener.config.name, outcome });
    this.finish('client-closed');
  }

  /** Holds, pauses and reads waiting on the session stop waiting; once (onClientClose then finish both call it). */
  private endWaits(): void {
    if (!this.over.signal.aborted) this.over.abort(SESSION_OVER);
  }

  private isOver(): boolean {
    return this.phase === 'closed' || this.phase === 'closing';
  }

  /** A FATAL ErrorResponse of the router's own, then close. */
  private refuse(refusal: Refusal): void {
    if (this.isOver()) return;
    this.ending = this.ending ?? 'refused';
    this.services.events.refused({ listener: this.listener.config.name, kind: refusal.kind, sqlstate: refusal.sqlstate, reason: refusal.message });
    this.log.info({ sqlstate: refusal.sqlstate, reason: refusal.message }, 'connection refused');
    this.closeWithError(refusal);
  }

  /** Sends FATAL and closes; the socket lingers briefly so the client reads it before the FIN. */
  private closeWithError(refusal: Refusal): void {
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
    if (side === 'backend') this.unmovableLost();
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
    if (this.ending === 'backend-closed') this.unmovableLost();
    this.phase = 'closing';
    this.releaseMember();
    // Client bytes read from now on are discarded, not passed to a member that is gone (a split relay follows its own links).
    if (this.split === undefined) this.relay?.stop();
    // On 'end' every byte of the backend was already written to the client; end() flushes them.
    this.client.sayGoodbye(undefined, this.timers, () => this.finish(this.ending ?? 'refused'));
  }

  /** The first backend connection of the session is up: observers hear of it once. */
  private announceSession(): void {
    if (this.member === undefined) return;
    if (!this.sessionStartedEmitted) {
      this.sessionStartedEmitted = true;
      // Read now, while the socket is open: the session's end line names the client.
      void this.client.address;
      this.services.events.sessionStarted({ listener: this.listener.config.name, member: this.member.name });
    }
  }

  private releaseMember(): void {
    if (this.memberCounted && this.member !== undefined) {
      this.memberCounted = false;
      this.listener.memberSessionClosed(this.member.name);
    }
    this.memberCancelKey = undefined;
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
    if (this.clientCancelKey !== undefined) this.services.cancelRegistry.release(this.clientCancelKey, this);
    this.links.close();
    this.backend?.destroy();
    this.client.destroy();
    if (this.sessionStartedEmitted) {
      const bytesIn = this.relay?.bytesIn ?? 0;
      const bytesOut = this.relay?.bytesOut ?? 0;
      this.services.events.sessionEnded({
        listener: this.listener.config.name,
        member: this.member?.name ?? '',
        clientAddress: this.clientAddress,
        durationMs: this.services.clock.now() - this.startedAt,
        bytesIn,
        bytesOut,
        ending: this.ending,
      });
      this.log.debug({ member: this.member?.name, ending: this.ending, bytesIn, bytesOut }, 'session closed');
    }
    this.onClosed(this);
  }

  /** For the admin snapshot. */
  describe(): SessionDescription {
    return {
      phase: this.phase,
      ...(this.member !== undefined ? { member: this.member.name } : {}),
      clientAddress: this.clientAddress,
      startedAt: this.startedAt,
      bytesIn: this.relay?.bytesIn ?? 0,
      bytesOut: this.relay?.bytesOut ?? 0,
      extraLinks: this.split?.extraLinks ?? this.links.extraCount,
      ...(this.split?.pinnedBy !== undefined ? { pinnedBy: this.split.pinnedBy } : {}),
      ...(this.links.singleLinkReason !== undefined ? { singleLinkReason: this.links.singleLinkReason } : {}),
    };
  }
}
