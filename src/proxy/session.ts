import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ClusterFeed } from '../topology/cluster-feed.js';
import type { ClusterState, Member } from '../topology/cluster-state.js';
import type { RouteDecision, RouteRequest } from '../routing/route-request.js';
import { chooseBackends } from '../routing/choose-backends.js';
import { advanceBalance } from '../routing/balance-order.js';
import { parseTargetOverride, stripTargetOverride } from '../routing/target-override.js';
import { routeNoun } from '../routing/route-words.js';
import { BackendConnectError, connectBackend, connectTcp, type BackendTls } from './backend-connector.js';
import type { CancelRegistry } from './cancel-registry.js';
import { ClientGone, receiveFirstPacket } from './client-packet.js';
import type { HoldQueue } from './hold-queue.js';
import { IdleTracker } from './idle-tracker.js';
import type { ListenerRuntime } from './listener-runtime.js';
import type { ProxyEvents, SessionEnding } from './proxy-events.js';
import { sendCancel } from './cancel-sender.js';
import { BackendFramer, FrameTooLarge } from './wire/backend-frame.js';
import { errorResponse } from './wire/error-response.js';
import { StartupWatch } from './startup-watch.js';
import { sslRequest } from './wire/requests.js';
import { encodeStartupMessage, type StartupParams } from './wire/startup-params.js';

/** What every session shares: the proxy's services, passed in (no module singletons). */
export interface SessionServices {
  feedFor(scope: string): ClusterFeed | undefined;
  /** Set when the router terminates TLS (cert and key configured). */
  serverTls: tls.SecureContext | undefined;
  backendTls: BackendTls;
  startupTimeoutMs: number;
  targetPrefix: string;
  cancelRegistry: CancelRegistry;
  holdQueue: HoldQueue;
  events: ProxyEvents;
  logger: Logger;
}

export type SessionPhase = 'startup' | 'holding' | 'connecting' | 'authenticating' | 'relaying' | 'passthrough' | 'closing' | 'closed';

const KEEPALIVE_DELAY_MS = 30_000;
/** How long a socket may linger after the router said its last word (FATAL sent, or peer gone). */
const LINGER_MS = 2_000;
const LINGER_HARD_LIMIT_MS = 30_000;

type AuthOutcome = 'done' | 'retry';

/** Connects to one member and returns the step that runs the startup over that connection. */
type Opener = (member: Member, canRetry: boolean) => Promise<{ backend: net.Socket; run: () => Promise<AuthOutcome> }>;

/** Pauses between routing attempts while no member takes the session (within hold_timeout). */
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800, 1000];

/**
 * One client connection's life: first packet (TLS, GSS, cancel, startup), routing and holding,
 * backend connect, relaying authentication while watching the startup messages, then a raw
 * byte relay with backpressure. Every refusal is a FATAL ErrorResponse naming the listener.
 */
export class Session {
  phase: SessionPhase = 'startup';
  /** The member this session uses (set once a candidate is being connected). */
  member: Member | undefined;
  /** The route request after any client override; fencing re-evaluates it. */
  request: RouteRequest | undefined;
  readonly clientAddress: string;
  private client: Duplex;
  private backend: net.Socket | undefined;
  private readonly startedAt = Date.now();
  private memberCounted = false;
  private sessionStartedEmitted = false;
  private bytesIn = 0;
  private bytesOut = 0;
  private cancelKey: { processId: number; secret: Buffer } | undefined;
  private readonly idle = new IdleTracker(false);
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly clientLeft = new AbortController();
  private ending: SessionEnding | undefined;
  private settleAuth: ((outcome: AuthOutcome) => void) | undefined;
  /** During a startup attempt: whether any backend byte has reached the client yet. */
  private authAttempt: { sentToClient: boolean } | undefined;
  /** Why the last member gave up on the startup, for the client's message if all do. */
  private lastStartupRefusal: string | undefined;
  /** True once client bytes flow to the backend through pipe() (which then forwards a FIN). */
  private piping = false;
  /** The client sent its FIN first: the backend's close that follows is the client's doing. */
  private clientEnded = false;
  /** The client's last bytes were a Terminate message: whatever closes next, the client ended it. */
  private clientSaidGoodbye = false;
  private readonly log: Logger;

  constructor(
    private readonly raw: net.Socket,
    private readonly listener: ListenerRuntime,
    private readonly services: SessionServices,
    private readonly onClosed: (session: Session) => void,
  ) {
    this.client = raw;
    this.clientAddress = `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`;
    this.log = services.logger.child({ listener: listener.config.name, client: this.clientAddress });
  }

  private get label(): string {
    return `patroni-router listener "${this.listener.config.name}"`;
  }

  start(): void {
    this.raw.setNoDelay(true);
    this.raw.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    this.raw.on('error', (err) => this.onSocketError('client', err));
    this.raw.on('close', () => this.onClientClose());
    this.raw.on('end', () => this.onClientEnd());
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
  terminate(code: string, message: string, ending: SessionEnding): void {
    if (this.phase === 'closed' || this.phase === 'closing') return;
    this.ending = ending;
    if (this.phase === 'relaying' && !this.idle.isIdle()) this.cancelRunningQuery();
    const atBoundary =
      this.phase === 'startup' || this.phase === 'connecting' || this.phase === 'authenticating' || this.phase === 'holding' ||
      (this.phase === 'relaying' && this.idle.isAtBoundary());
    if (atBoundary) this.closeWithError(code, message);
    else this.finish(ending);
  }

  /** Asks the member to cancel what this session is running, with the key it gave us. */
  private cancelRunningQuery(): void {
    const member = this.member;
    if (this.cancelKey === undefined || member?.host === undefined || member.port === undefined) return;
    sendCancel(address(member), this.cancelKey.processId, this.cancelKey.secret, this.listener.config.connectTimeoutMs, this.log);
  }

  private async run(): Promise<void> {
    const startupTimer = this.timer(this.services.startupTimeoutMs, () => this.refuse('08P01', 'startup packet timeout'));
    let inTls = false;
    for (;;) {
      let received;
      try {
        received = await receiveFirstPacket(this.client, !inTls);
      } catch (err) {
        if (err instanceof ClientGone) return this.finish('client-closed');
        throw err;
      }
      if (this.phase !== 'startup') return;
      const { read, rest } = received;
      if (read.status === 'invalid') return this.refuse(read.code, read.message);
      const packet = read.packet;
      switch (packet.kind) {
        case 'gssenc-request':
          if (inTls || rest.length > 0) return this.refuse('08P01', 'unexpected GSSENCRequest');
          // The router does not do GSSAPI encryption; libpq then tries SSL or plain.
          this.client.write('N');
          continue;
        case 'ssl-request':
          if (inTls) return this.refuse('08P01', 'SSLRequest inside TLS');
          // Bytes sent before the TLS handshake would be trusted as if encrypted (CVE-2021-23214).
          if (rest.length > 0) return this.refuse('08P01', 'received unencrypted data after SSL request');
          if (this.services.serverTls === undefined) {
            this.clearTimer(startupTimer);
            return this.passThrough(sslRequest());
          }
          this.client.write('S');
          this.upgradeClient(this.services.serverTls);
          inTls = true;
          continue;
        case 'direct-tls':
          if (this.services.serverTls === undefined) {
            this.clearTimer(startupTimer);
            return this.passThrough(rest);
          }
          this.raw.unshift(rest);
          this.upgradeClient(this.services.serverTls);
          inTls = true;
          continue;
        case 'cancel-request':
          this.clearTimer(startupTimer);
          return this.forwardCancel(packet.processId, packet.secret);
        case 'startup':
          this.clearTimer(startupTimer);
          return this.startup(packet.major, packet.minor, packet.params, rest);
      }
    }
  }

  private upgradeClient(context: tls.SecureContext): void {
    const secure = new tls.TLSSocket(this.raw, { isServer: true, secureContext: context, ALPNProtocols: ['postgresql'] });
    secure.on('error', (err) => this.onSocketError('client', err));
    secure.on('end', () => this.onClientEnd());
    this.client = secure;
  }

  private async startup(major: number, minor: number, clientParams: StartupParams, rest: Buffer): Promise<void> {
    const config = this.listener.config;
    if (!clientParams['user']) return this.refuse('28000', 'no PostgreSQL user name specified in startup packet');
    const override = parseTargetOverride(clientParams, this.services.targetPrefix, config.allowedTargets, config.name);
    if (override.error !== undefined) {
      return this.refuse(override.error.startsWith('unknown') ? '42704' : '08004', `${this.label}: ${override.error}`);
    }
    const params = stripTargetOverride(clientParams, this.services.targetPrefix);
    this.request = this.listener.routeRequest(override.target ?? config.route);
    const startupMessage = encodeStartupMessage(major, minor, params);
    await this.routeAndConnect(this.request, (decision) => async (member, canRetry) => {
      const backend = await connectBackend(address(member), this.services.backendTls, config.connectTimeoutMs);
      return { backend, run: () => this.authenticate(backend, startupMessage, rest, decision, canRetry) };
    });
  }

  /** TLS the router cannot open: pick the backend now and relay bytes, as HAProxy's TCP mode does. */
  private async passThrough(initialBytes: Buffer): Promise<void> {
    this.request = this.listener.routeRequest();
    await this.routeAndConnect(this.request, () => async (member) => {
      const backend = await connectTcp(address(member), this.listener.config.connectTimeoutMs);
      return {
        backend,
        run: async (): Promise<AuthOutcome> => {
          this.phase = 'passthrough';
          this.attachBackend(backend);
          backend.write(initialBytes);
          this.relayClientToBackend(Buffer.alloc(0));
          this.relayBackendToClient(Buffer.alloc(0));
          return 'done';
        },
      };
    });
  }

  /**
   * Routes, connects, and while nothing has reached the client yet, keeps trying until the
   * listener's hold_timeout: a member that refuses the connection or the startup (a primary
   * that just died, one shutting down for a switchover, a server still in recovery) means
   * "wait for the cluster", not "fail the client". Only then the client hears why.
   */
  private async routeAndConnect(request: RouteRequest, opener: (decision: RouteDecision) => Opener): Promise<void> {
    const config = this.listener.config;
    const deadline = Date.now() + config.holdTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const decision = await this.decide(request, deadline);
      if (decision === undefined) return;
      const failure = await this.connectCandidates(decision, opener(decision));
      if (failure === undefined || this.isOver()) return;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const waited = config.holdTimeoutMs > 0 ? ` (waited ${formatSeconds(Date.now() - (deadline - config.holdTimeoutMs))})` : '';
        return this.refuse('08006', `${this.label}: ${failure}${waited}`);
      }
      const delay = Math.min(RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)] as number, remaining);
      this.log.info({ reason: failure, retryInMs: delay }, 'no member took the session yet; holding and retrying');
      this.phase = 'holding';
      if (!(await this.pause(delay))) return;
    }
  }

  /**
   * Waits `ms`, or less when the cluster's state changes meanwhile (a new primary should be
   * tried at once, not after the rest of a back-off); false when the client left.
   */
  private pause(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.clientLeft.signal.aborted) return resolve(false);
      const done = (goOn: boolean): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        unsubscribe();
        this.clientLeft.signal.removeEventListener('abort', onAbort);
        resolve(goOn && !this.isOver());
      };
      const onAbort = (): void => done(false);
      const timer = this.timer(ms, () => done(true));
      const unsubscribe = this.services.feedFor(this.listener.config.cluster)?.subscribe(() => done(true)) ?? (() => undefined);
      this.clientLeft.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Routes now, or holds until the cluster offers a candidate; undefined = refused or gone. */
  private async decide(request: RouteRequest, deadline: number): Promise<RouteDecision | undefined> {
    const config = this.listener.config;
    const feed = this.services.feedFor(config.cluster);
    if (feed === undefined) {
      this.refuse('08006', `${this.label}: cluster ${config.cluster} is not followed by this router`);
      return undefined;
    }
    const decideOn = (state: ClusterState): RouteDecision => chooseBackends(state, { ...request, now: Date.now() }, this.listener.memory);
    const state = feed.current();
    const decision = state === undefined ? undefined : decideOn(state);
    if (decision !== undefined && decision.candidates.length > 0) return decision;
    const reason = decision?.reason ?? `no ${routeNoun(request.route)} in cluster ${config.cluster}: topology not read yet`;
    const holdStartedAt = deadline - config.holdTimeoutMs;
    if (Date.now() >= deadline) {
      const waited = config.holdTimeoutMs > 0 ? ` (waited ${formatSeconds(Date.now() - holdStartedAt)})` : '';
      this.refuse('57P03', `${this.label}: ${reason}${waited}`);
      return undefined;
    }
    this.phase = 'holding';
    this.services.events.holdStarted({ listener: config.name });
    this.log.debug({ reason }, 'holding connection');
    const held = await this.services.holdQueue.wait({
      listener: config.name,
      feed,
      decide: decideOn,
      timeoutMs: deadline - Date.now(),
      signal: this.clientLeft.signal,
    });
    this.services.events.holdEnded({ listener: config.name, waitedMs: held.waitedMs, outcome: held.outcome });
    if (this.phase !== 'holding') return undefined;
    this.phase = 'startup';
    switch (held.outcome) {
      case 'proceeded':
        return held.decision;
      case 'timeout':
        this.refuse('57P03', `${this.label}: ${held.lastReason ?? reason} (waited ${formatSeconds(Date.now() - holdStartedAt)})`);
        return undefined;
      case 'shutdown':
        this.refuse('57P01', 'patroni-router is shutting down');
        return undefined;
      case 'client-gone':
        this.finish('client-closed');
        return undefined;
    }
  }

  /**
   * Tries the decision's candidates in order. A write route never tries another member (only
   * the primary may take writes); a read route moves on when a member refuses or times out.
   */
  private async connectCandidates(decision: RouteDecision, open: Opener): Promise<string | undefined> {
    advanceBalance(this.listener.memory);
    const isPrimary = decision.routeUsed === 'primary';
    const candidates = isPrimary ? decision.candidates.slice(0, 1) : decision.candidates;
    let lastError = 'no usable address';
    let lastMember: Member | undefined;
    for (let i = 0; i < candidates.length; i++) {
      const member = candidates[i] as Member;
      if (member.host === undefined || member.port === undefined) continue;
      lastMember = member;
      this.member = member;
      this.phase = 'connecting';
      let opened;
      try {
        // Every attempt may give way while nothing reached the client: the next candidate,
        // or (the last one) a new routing decision after a pause.
        opened = await open(member, true);
      } catch (err) {
        if (this.isOver()) return undefined;
        lastError = err instanceof Error ? err.message : String(err);
        this.log.warn({ member: member.name, err: lastError }, 'backend connect failed');
        if (err instanceof BackendConnectError && !err.retryable) {
          // A certificate the router must not trust: waiting will not change it.
          this.refuse('08006', `${this.label}: could not connect to ${routeNoun(decision.routeUsed)} ${member.name} (${member.host}:${member.port}) of cluster ${this.listener.config.cluster}: ${lastError}`);
          return undefined;
        }
        continue;
      }
      if (this.isOver()) {
        opened.backend.destroy();
        return undefined;
      }
      this.countMember();
      const outcome = await opened.run();
      if (outcome === 'done') return undefined;
      lastError = this.lastStartupRefusal ?? 'it refused the startup';
      this.log.info({ member: member.name, reason: lastError }, 'member could not take the session; trying the next candidate');
    }
    this.member = undefined;
    const noun = routeNoun(decision.routeUsed);
    const which = lastMember === undefined ? '' : ` ${lastMember.name} (${lastMember.host}:${lastMember.port})`;
    return `could not connect to ${noun}${which} of cluster ${this.listener.config.cluster}: ${lastError}`;
  }

  private isOver(): boolean {
    return this.phase === 'closed' || this.phase === 'closing';
  }

  /**
   * Sends the startup message and relays the backend's answers (auth challenges included,
   * untouched) while reading them: BackendKeyData for cancel, in_hot_standby for write routes.
   */
  private authenticate(backend: net.Socket, startupMessage: Buffer, rest: Buffer, decision: RouteDecision, canRetry: boolean): Promise<AuthOutcome> {
    this.phase = 'authenticating';
    this.attachBackend(backend);
    backend.write(startupMessage);
    const framer = new BackendFramer();
    const watch = new StartupWatch({ writeRoute: decision.routeUsed === 'primary', canRetry });
    const member = this.member as Member;
    const attempt = { sentToClient: false };
    this.authAttempt = attempt;
    this.lastStartupRefusal = undefined;
    let clientFlowing = false;
    /** Messages held back until ReadyForQuery shows the session is usable (write routes). */
    const deferred: Buffer[] = [];
    return new Promise<AuthOutcome>((resolve) => {
      this.settleAuth = resolve;
      const settle = (outcome: AuthOutcome): void => {
        backend.removeListener('data', onData);
        this.settleAuth = undefined;
        this.authAttempt = undefined;
        resolve(outcome);
      };
      const flush = (out: Buffer[]): void => {
        if (out.length === 0) return;
        if (!clientFlowing) {
          clientFlowing = true;
          // The client speaks only after the backend's first answer; from then on its bytes flow.
          this.relayClientToBackend(rest);
        }
        attempt.sentToClient = true;
        this.writeClient(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
      };
      const onData = (chunk: Buffer): void => {
        framer.push(chunk);
        const out: Buffer[] = [];
        for (;;) {
          let frame;
          try {
            frame = framer.next();
          } catch (err) {
            if (!(err instanceof FrameTooLarge)) throw err;
            flush(out);
            settle('done');
            return this.refuse('08P01', `${this.label}: member ${member.name} sent an invalid message during startup (${err.message})`);
          }
          if (frame === undefined) break;
          const verdict = watch.observe(frame);
          switch (verdict.kind) {
            case 'relay':
            case 'defer':
              if (verdict.cancelKey !== undefined) this.registerCancelKey(verdict.cancelKey.processId, verdict.cancelKey.secret, member);
              // Something goes to the client: what was kept back goes first, in order.
              if (verdict.kind === 'relay') out.push(...deferred.splice(0), frame.raw);
              else deferred.push(frame.raw);
              continue;
            case 'retry':
              settle('retry');
              this.lastStartupRefusal = `${member.name} ${verdict.why}`;
              this.log.info({ member: member.name, reason: verdict.why }, 'member could not take the session');
              return this.releaseBackendAttempt();
            case 'refuse-read-only':
              flush(out);
              settle('done');
              return this.refuse(
                '25006',
                `${this.label}: member ${member.name} of cluster ${this.listener.config.cluster} is in hot standby (read-only); refusing a write session`,
              );
            case 'ready':
              flush([...deferred, ...out]);
              settle('done');
              this.phase = 'relaying';
              this.writeClient(frame.raw);
              this.idle.backendBytes(frame.raw);
              return this.relayBackendToClient(framer.rest());
          }
        }
        flush(out);
      };
      backend.on('data', onData);
    });
  }

  /**
   * The backend went away during the startup. If nothing of it reached the client, the
   * attempt gives way (another member, or a new decision after a pause); else the client
   * hears what happened.
   */
  private backendLostDuringStartup(why: string): void {
    const member = this.member as Member;
    if (this.authAttempt !== undefined && !this.authAttempt.sentToClient) {
      this.lastStartupRefusal = `connection to ${member.name} lost during startup: ${why}`;
      this.settleAuth?.('retry');
      this.releaseBackendAttempt();
      return;
    }
    this.ending = 'backend-error';
    this.closeWithError('08006', `${this.label}: connection to member ${member.name} lost during startup: ${why}`);
  }

  /** Drops a backend that refused the startup before anything reached the client. */
  private releaseBackendAttempt(): void {
    const backend = this.backend;
    this.backend = undefined;
    backend?.removeAllListeners('close');
    backend?.destroy();
    this.uncountMember();
    this.dropCancelKey();
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

  private relayClientToBackend(rest: Buffer): void {
    const backend = this.backend as net.Socket;
    if (rest.length > 0) {
      this.bytesIn += rest.length;
      backend.write(rest);
    }
    this.client.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      this.idle.clientBytes();
      this.clientSaidGoodbye = endsWithTerminate(chunk);
    });
    this.client.pipe(backend);
    this.piping = true;
  }

  private relayBackendToClient(rest: Buffer): void {
    const backend = this.backend as net.Socket;
    if (rest.length > 0) {
      this.writeClient(rest);
      this.idle.backendBytes(rest);
    }
    backend.on('data', (chunk: Buffer) => {
      this.bytesOut += chunk.length;
      this.idle.backendBytes(chunk);
    });
    backend.pipe(this.client);
  }

  private writeClient(bytes: Buffer): void {
    this.bytesOut += bytes.length;
    this.client.write(bytes);
  }

  private registerCancelKey(processId: number, secret: Buffer, member: Member): void {
    this.dropCancelKey();
    this.cancelKey = { processId, secret };
    this.services.cancelRegistry.register(
      processId,
      secret,
      { host: member.host as string, port: member.port as number, listener: this.listener.config.name, member: member.name },
      this,
    );
  }

  private dropCancelKey(): void {
    if (this.cancelKey === undefined) return;
    this.services.cancelRegistry.remove(this.cancelKey.processId, this.cancelKey.secret, this);
    this.cancelKey = undefined;
  }

  /**
   * A CancelRequest carries only the key. Known key: send it to the backend that issued it.
   * Unknown (sessions whose startup the router could not read, i.e. TLS pass-through): send it
   * to every current candidate of this listener; PostgreSQL ignores a key that is not its own.
   * The client gets no reply either way, as with PostgreSQL.
   */
  private forwardCancel(processId: number, secret: Buffer): void {
    const config = this.listener.config;
    const known = this.services.cancelRegistry.lookup(processId, secret);
    let targets: Array<{ host: string; port: number }> = [];
    let outcome: 'forwarded' | 'broadcast' | 'unknown' = 'unknown';
    if (known !== undefined) {
      targets = [known];
      outcome = 'forwarded';
    } else {
      const state = this.services.feedFor(config.cluster)?.current();
      if (state !== undefined) {
        const decision = chooseBackends(state, { ...this.listener.routeRequest(), now: Date.now() }, this.listener.memory);
        targets = decision.candidates.filter((m) => m.host !== undefined && m.port !== undefined).map(address);
        if (targets.length > 0) outcome = 'broadcast';
      }
    }
    for (const target of targets) sendCancel(target, processId, secret, config.connectTimeoutMs, this.log);
    this.services.events.cancel({ listener: config.name, outcome });
    this.log.debug({ outcome, targets: targets.length }, 'cancel request');
    this.finish('client-closed');
  }

  /** A FATAL ErrorResponse of the router's own, then close. */
  private refuse(code: string, message: string): void {
    if (this.isOver()) return;
    this.ending = this.ending ?? 'refused';
    this.services.events.refused({ listener: this.listener.config.name, reason: message, sqlstate: code });
    this.log.info({ sqlstate: code, reason: message }, 'connection refused');
    this.closeWithError(code, message);
  }

  /** Sends FATAL and closes; the socket lingers briefly so the client reads it before the FIN. */
  private closeWithError(code: string, message: string): void {
    this.phase = 'closing';
    this.clientLeft.abort();
    this.settleAuth?.('done');
    const backend = this.backend;
    if (backend !== undefined) {
      backend.unpipe();
      backend.destroy();
    }
    this.client.unpipe();
    this.releaseMember();
    // Keep reading (and discarding) so unread input does not turn our close into a reset.
    this.client.resume();
    this.client.end(errorResponse({ severity: 'FATAL', code, message }));
    this.lingerThenFinish();
  }

  /**
   * After the router's last byte: wait until it is flushed, then a short grace for the client
   * to read it and close; a client that never reads is cut off after a hard limit.
   */
  private lingerThenFinish(): void {
    const done = (): void => this.finish(this.ending ?? 'refused');
    this.timer(LINGER_HARD_LIMIT_MS, done);
    if (this.client.writableFinished) this.timer(LINGER_MS, done);
    else this.client.once('finish', () => this.timer(LINGER_MS, done));
  }

  private onSocketError(side: 'client' | 'backend', err: Error): void {
    this.log.debug({ side, err: err.message }, 'socket error');
    if (side === 'backend' && this.phase === 'authenticating' && this.member !== undefined) return this.backendLostDuringStartup(err.message);
    // After the client's goodbye a reset from the backend is the normal end of a TLS session:
    // postgres exits on Terminate without reading the client's close_notify.
    if (side === 'backend' && (this.clientEnded || this.clientSaidGoodbye)) return this.finish(this.ending ?? 'client-closed');
    this.finish(side === 'client' ? 'client-error' : 'backend-error');
  }

  private onClientClose(): void {
    this.clientLeft.abort();
    this.finish(this.ending ?? 'client-closed');
  }

  /** A client FIN before its bytes flow to the backend (during startup, hold or connect) ends the session. */
  private onClientEnd(): void {
    this.clientEnded = true;
    if (!this.piping) this.finish(this.ending ?? 'client-closed');
  }

  /** The backend finished (FIN) or closed: pass the end on to the client once its data is out. */
  private onBackendEnd(backend: net.Socket): void {
    if (backend !== this.backend || this.isOver()) return;
    if (this.phase === 'authenticating' && this.member !== undefined) return this.backendLostDuringStartup('closed by the member');
    this.ending = this.ending ?? (this.clientEnded || this.clientSaidGoodbye ? 'client-closed' : 'backend-closed');
    this.phase = 'closing';
    this.settleAuth?.('done');
    this.releaseMember();
    // On 'end' every byte of the backend was already written to the client; end() flushes them.
    this.client.end();
    this.lingerThenFinish();
  }

  private countMember(): void {
    if (this.memberCounted || this.member === undefined) return;
    this.memberCounted = true;
    this.listener.memberSessionOpened(this.member.name);
    if (!this.sessionStartedEmitted) {
      this.sessionStartedEmitted = true;
      this.services.events.sessionStarted({ listener: this.listener.config.name, member: this.member.name, clientAddress: this.clientAddress });
    }
  }

  private uncountMember(): void {
    if (!this.memberCounted || this.member === undefined) return;
    this.memberCounted = false;
    this.listener.memberSessionClosed(this.member.name);
  }

  private releaseMember(): void {
    this.uncountMember();
    this.dropCancelKey();
  }

  /** The one way out: every timer cleared, both sockets destroyed, every registration undone. */
  finish(ending: SessionEnding): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.ending = this.ending ?? ending;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.clientLeft.abort();
    this.settleAuth?.('done');
    this.releaseMember();
    this.backend?.destroy();
    this.client.destroy();
    this.raw.destroy();
    if (this.sessionStartedEmitted) {
      this.services.events.sessionEnded({
        listener: this.listener.config.name,
        member: this.member?.name ?? '',
        clientAddress: this.clientAddress,
        durationMs: Date.now() - this.startedAt,
        bytesIn: this.bytesIn,
        bytesOut: this.bytesOut,
        ending: this.ending,
      });
      this.log.debug({ member: this.member?.name, ending: this.ending, bytesIn: this.bytesIn, bytesOut: this.bytesOut }, 'session closed');
    }
    this.onClosed(this);
  }

  private timer(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimer(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }

  /** For the admin snapshot. */
  describe(): { phase: SessionPhase; member?: string; clientAddress: string; startedAt: number; bytesIn: number; bytesOut: number } {
    return {
      phase: this.phase,
      ...(this.member !== undefined ? { member: this.member.name } : {}),
      clientAddress: this.clientAddress,
      startedAt: this.startedAt,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    };
  }
}

/** Terminate ('X', length 4): the client's goodbye. Only the chunk's last five bytes are read. */
function endsWithTerminate(chunk: Buffer): boolean {
  const n = chunk.length;
  return n >= 5 && chunk[n - 5] === 0x58 && chunk[n - 4] === 0 && chunk[n - 3] === 0 && chunk[n - 2] === 0 && chunk[n - 1] === 4;
}

function address(member: Member): { host: string; port: number } {
  return { host: member.host as string, port: member.port as number };
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 10 ? Math.round(s) : Math.round(s * 10) / 10} s`;
}
