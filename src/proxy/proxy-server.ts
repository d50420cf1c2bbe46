import type net from 'node:net';
import type { Logger } from 'pino';
import { listenerChanges, type ListenerChanges } from '../config/reload-plan.js';
import type { AuthConfig, ListenerConfig, RouteKind, TlsConfig } from '../config/types.js';
import type { ClusterFeed } from '../topology/cluster-feed.js';
import type { ClusterState } from '../topology/cluster-state.js';
import { cancelForPeer, tryPassThroughMembers, type CancelPeers } from './cancel-forwarding.js';
import { CancelRegistry, type CancelKey } from './cancel-registry.js';
import { fenceLaggingSessions, fenceSessions } from './fencing.js';
import { HoldQueue } from './hold-queue.js';
import { boundPort, closeListener, openListener } from './listener.js';
import { ListenerRuntime } from './listener-runtime.js';
import { noProxyEvents, type ProxyEvents } from './proxy-events.js';
import type { AuthQueryResult } from './backend/auth/auth-query.js';
import { SecretSource } from './backend/auth/secret-source.js';
import { CatalogSource } from './split/catalog-source.js';
import { ReplayWatch } from './split/replay-watch.js';
import type { SplitStats } from './split/split-stats.js';
import { allowedFunctions, withAllowedFunctions, type FunctionCatalog } from '../sql/function-catalog.js';
import { loadSqlParser } from '../sql/sql-parser.js';
import { memberConnector, type BackendConnector } from './backend/connector.js';
import { systemClock, type Clock } from './clock.js';
import { refusals } from './refusal.js';
import { nextScheduledChangeIn } from '../routing/scheduled-actions.js';
import { Session } from './session.js';
import type { SessionServices } from './session-services.js';
import type { SessionHandle, SessionPhase } from './session-handle.js';
import { readPem, serverTlsContext } from './tls-material.js';

/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ProxyServerOptions {
  listeners: readonly ListenerConfig[];
  tls: TlsConfig;
  startupTimeoutMs: number;
  /** Bound on a member's startup, from the StartupMessage to ReadyForQuery; default 60 s. */
  authenticationTimeoutMs?: number;
  /** Prefix of the per-connection route option (`-c <prefix>.target=replica`). */
  targetParameterPrefix: string;
  /** Followed clusters by scope; listeners name theirs in `cluster`. */
  feeds: ReadonlyMap<string, ClusterFeed>;
  logger: Logger;
  events?: ProxyEvents;
  /** How members are reached; default TCP with `tls.backend`'s mode. */
  connector?: BackendConnector;
  /** The auth_query role: lets sessions learn their user's secret (links, SCRAM across terminated TLS). */
  auth?: AuthConfig;
  /** Set in a worker process: its index names the keys it issues, and cancels for other workers' keys go to them. */
  cancelPeers?: CancelPeers;
  clock?: Clock;
}

export interface ListenerStatus {
  name: string;
  cluster: string;
  route: RouteKind;
  host: string;
  /** The bound port (differs from the configured one when that was 0). */
  port: number | undefined;
  accepting: boolean;
  /** Removed or replaced by a reload; kept while its sessions finish. */
  retired: boolean;
}

export interface ListenerSessions {
  listener: string;
  cluster: string;
  retired: boolean;
  /** Every open client connection, whatever its phase. */
  total: number;
  /** Waiting for a member: held for a candidate, or between attempts that gave way. */
  held: number;
  byPhase: Partial<Record<SessionPhase, number>>;
  /** Sessions with a backend connection, per member. */
  byMember: Record<string, number>;
  /** Replicas this listener's max_lag keeps out for now although under it (they lagged lately), and why. */
  lagHeld?: Record<string, string>;
  /** A split listener: what it routed where since it started, its sessions pinned to the primary by why, and its sessions' replica links per member. */
  split?: ReturnType<SplitStats['snapshot']> & { pinned: Record<string, number>; replicaLinks: Record<string, number> };
}

function pinnedSessions(sessions: Iterable<SessionHandle>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of sessions) {
    const pin = s.describe().pinnedBy;
    if (pin !== undefined) out[pin] = (out[pin] ?? 0) + 1;
  }
  return out;
}

/** How often sessions spared by max_lag_fence_busy are looked at again while the lag lasts. */
const LAG_RECHECK_MS = 500;

/**
 * The proxy: one TCP listener per configured route, the sessions they accept, fencing driven
 * by the cluster feeds, reloads that leave unchanged listeners alone, and a graceful drain.
 */
export class ProxyServer {
  private readonly active = new Map<string, ListenerRuntime>();
  /** Listeners removed or replaced by a reload whose sessions are still running. */
  private readonly retired = new Set<ListenerRuntime>();
  private readonly services: SessionServices;
  private readonly unsubscribes: Array<() => void> = [];
  private readonly events: ProxyEvents;
  private readonly log: Logger;
  private started = false;
  private closing = false;
  private readonly sessionsGone = new Set<() => void>();
  /** One auth_query per followed cluster, when `auth:` is configured. */
  private readonly secretSources = new Map<string, SecretSource>();
  /** Per cluster: the timer that tells sessions when a scheduled switchover or restart falls due (or such a restart goes stale). */
  private readonly scheduledWakeups = new Map<string, NodeJS.Timeout>();
  /** Per cluster with split listeners: replicas' replay positions and the function catalog. */
  private readonly splitClusters = new Map<string, { replay: ReplayWatch; catalog: CatalogSource; latest?: FunctionCatalog }>();

  constructor(private readonly options: ProxyServerOptions) {
    this.log = options.logger;
    this.events = guardEvents(options.events ?? noProxyEvents, this.log);
    const clock = options.clock ?? systemClock;
    const backendTls = { mode: options.tls.backend.mode, ...(options.tls.backend.ca !== undefined ? { ca: readPem(options.tls.backend.ca) } : {}) };
    const connector = options.connector ?? memberConnector(backendTls);
    if (options.auth !== undefined) {
      for (const [scope, feed] of options.feeds) this.secretSources.set(scope, new SecretSource(feed, connector, options.auth, this.log.child({ cluster: scope })));
    }
    this.services = {
      feedFor: (scope) => options.feeds.get(scope),
      serverTls: serverTlsContext(options.tls),
      connector,
      ...(this.secretSources.size > 0 ? { secretLookup: (scope: string, user: string) => this.lookupSecret(scope, user) } : {}),
      replayPosition: (scope, member) => this.splitClusters.get(scope)?.replay.position(member),
      refreshReplayPosition: (scope, member) => this.splitClusters.get(scope)?.replay.refresh(member) ?? Promise.resolve(),
      replayObserved: (scope, member, position) => this.splitClusters.get(scope)?.replay.observed(member, position),
      startupTimeoutMs: options.startupTimeoutMs,
      authenticationTimeoutMs: options.authenticationTimeoutMs ?? 60_000,
      targetPrefix: options.targetParameterPrefix,
      cancelRegistry: new CancelRegistry(options.cancelPeers?.index ?? 0),
      ...(options.cancelPeers !== undefined ? { cancelPeers: options.cancelPeers } : {}),
      holdQueue: new HoldQueue(clock),
      events: this.events,
      logger: this.log,
      clock,
    };
  }

  /** Binds every listener and starts fencing; rejects (with nothing left bound) if one cannot bind. */
  async start(): Promise<void> {
    if (this.started) throw new Error('ProxyServer already started');
    this.started = true;
    for (const feed of this.options.feeds.values()) {
      this.unsubscribes.push(
        feed.subscribe((change) => {
          fenceSessions(change, this.allRuntimes(), this.events);
          for (const runtime of this.allRuntimes()) {
            if (runtime.config.cluster !== change.next.scope) continue;
            this.followLag(runtime, change.next);
          }
          this.tellSessions(change.next);
          this.wakeAtScheduledAction(feed, change.next);
        }),
      );
    }
    try {
      for (const config of this.options.listeners) await this.startListener(config);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Split and moving sessions of the cluster follow its state: replica links, switchover pauses, moves. */
  private tellSessions(state: ClusterState): void {
    for (const runtime of this.allRuntimes()) {
      if (runtime.config.cluster !== state.scope || runtime.split === undefined) continue;
      for (const session of [...runtime.sessions]) session.clusterChanged(state);
    }
  }

  /**
   * A switchover or restart scheduled for later changes no key when it falls due (Patroni
   * sleeps until its time, then acts): the sessions are told the same state again then, so that
   * they pause before the shutdown as they do for one asked for now (and again when such a
   * restart goes stale unrun). Any new state re-arms it.
   */
  private wakeAtScheduledAction(feed: ClusterFeed, state: ClusterState): void {
    const { clock } = this.services;
    const armed = this.scheduledWakeups.get(state.scope);
    if (armed !== undefined) clock.clearTimeout(armed);
    this.scheduledWakeups.delete(state.scope);
    const dueIn = nextScheduledChangeIn(state, clock.now());
    if (dueIn === undefined || this.closing) return;
    const wakeup = clock.setTimeout(
      () => {
        this.scheduledWakeups.delete(state.scope);
        const now = feed.current();
        if (now === undefined) return;
        this.tellSessions(now);
        this.wakeAtScheduledAction(feed, now);
      },
      // A timer fires at once beyond 2^31-1 ms; one that far off wakes early and re-arms.
      Math.min(dueIn, MAX_TIMER_MS),
    );
    wakeup.unref?.();
    this.scheduledWakeups.set(state.scope, wakeup);
  }

  listeners(): ListenerStatus[] {
    return [...this.active.values(), ...this.retired].map((r) => ({
      name: r.config.name,
      cluster: r.config.cluster,
      route: r.config.route,
      host: r.config.host,
      port: boundPort(r.server) ?? r.config.port,
      accepting: r.server?.listening ?? false,
      retired: r.retired,
    }));
  }

  /** A snapshot for the admin API and the metrics: per listener, open connections by phase and by member. */
  sessions(): ListenerSessions[] {
    return [...this.active.values(), ...this.retired].map((r) => {
      const byPhase: Partial<Record<SessionPhase, number>> = {};
      for (const s of r.sessions) byPhase[s.phase] = (byPhase[s.phase] ?? 0) + 1;
      return {
        listener: r.config.name,
        cluster: r.config.cluster,
        retired: r.retired,
        total: r.sessions.size,
        held: byPhase.holding ?? 0,
        byPhase,
        byMember: r.countsByMember(),
        ...(r.lag !== undefined ? { lagHeld: Object.fromEntries(r.lag.held(this.services.clock.now())) } : {}),
        ...(r.split !== undefined && r.config.split !== undefined
          ? { split: { ...r.split.stats.snapshot(), pinned: pinnedSessions(r.sessions), replicaLinks: r.replicaLinkCounts() } }
          : {}),
      };
    });
  }

  /** The open sessions of a listener (tests, and the admin's per-session views). */
  sessionsOf(listener: string): SessionHandle[] {
    return this.allRuntimes()
      .filter((r) => r.config.name === listener)
      .flatMap((r) => [...r.sessions]);
  }

  /**
   * A CancelRequest another worker received: `owner` for a key this process issued (its
   * session cancels on its member), `pass-through` for a key that may be a member's own, tried
   * on the members of this listener's TLS pass-through sessions.
   */
  cancelFromPeer(listener: string, key: CancelKey, reach: 'owner' | 'pass-through'): void {
    if (reach === 'owner') {
      cancelForPeer(key, this.services.cancelRegistry, this.log);
      return;
    }
    const now = this.services.clock.now();
    for (const runtime of this.allRuntimes()) if (runtime.config.name === listener) tryPassThroughMembers(key, runtime, { now, log: this.log });
  }

  /** Open cancel keys (for tests and the status page). */
  cancelKeyCount(): number {
    return this.services.cancelRegistry.size;
  }

  /**
   * SIGHUP: adds new listeners, stops removed ones from accepting (their sessions run on),
   * restarts changed ones (new settings for new connections), and leaves unchanged ones alone.
   */
  async applyListeners(next: readonly ListenerConfig[]): Promise<ListenerChanges> {
    const changes = listenerChanges(
      [...this.active.values()].map((r) => r.config),
      next,
    );
    const wanted = new Map(next.map((c) => [c.name, c]));
    for (const [name, runtime] of [...this.active]) {
      if (changes.removed.includes(name)) await this.retire(runtime);
      else if (changes.restarted.includes(name)) {
        await this.retire(runtime);
        await this.startListener(wanted.get(name)!);
      }
    }
    for (const name of changes.added) await this.startListener(wanted.get(name)!);
    this.log.info(changes, 'listeners reloaded');
    return changes;
  }

  /**
   * Graceful stop: no new connections, held clients are told the router is shutting down,
   * running sessions get `timeoutMs` to finish; the rest are closed with FATAL 57P01.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.closing = true;
    await Promise.all(this.allRuntimes().map((r) => closeListener(r.server)));
    this.services.holdQueue.release();
    if (!(await this.waitForNoSessions(timeoutMs))) {
      for (const runtime of this.allRuntimes()) {
        for (const session of [...runtime.sessions]) session.terminate(refusals.shutdown(), 'shutdown');
      }
      // Terminated sessions linger briefly so clients read the FATAL; then they are cut.
      if (!(await this.waitForNoSessions(5_000))) this.destroyAllSessions();
    }
    await this.close();
  }

  private lookupSecret(scope: string, user: string): Promise<AuthQueryResult> {
    const source = this.secretSources.get(scope);
    if (source === undefined) return Promise.reject(new Error(`no auth_query for cluster ${scope}`));
    return source.lookup(user);
  }

  /** Immediate stop: listeners closed, every session's sockets destroyed, feeds unsubscribed. */
  async close(): Promise<void> {
    this.closing = true;
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    for (const runtime of this.allRuntimes()) if (runtime.lagTimer !== undefined) this.services.clock.clearTimeout(runtime.lagTimer);
    for (const wakeup of this.scheduledWakeups.values()) this.services.clock.clearTimeout(wakeup);
    this.scheduledWakeups.clear();
    this.services.holdQueue.release();
    await Promise.all(this.allRuntimes().map((r) => closeListener(r.server)));
    this.destroyAllSessions();
    for (const source of this.secretSources.values()) source.close();
    for (const split of this.splitClusters.values()) {
      split.replay.stop();
      split.catalog.stop();
    }
    this.active.clear();
    this.retired.clear();
  }

  private destroyAllSessions(): void {
    for (const runtime of this.allRuntimes()) {
      for (const session of [...runtime.sessions]) session.finish('shutdown');
    }
  }

  private allRuntimes(): ListenerRuntime[] {
    return [...this.active.values(), ...this.retired];
  }

  private totalSessions(): number {
    return this.allRuntimes().reduce((n, r) => n + r.sessions.size, 0);
  }

  private waitForNoSessions(timeoutMs: number): Promise<boolean> {
    if (this.totalSessions() === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.totalSessions() > 0) return;
        clearTimeout(timer);
        this.sessionsGone.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.sessionsGone.delete(check);
        resolve(false);
      }, timeoutMs);
      this.sessionsGone.add(check);
    });
  }

  /**
   * Folds a snapshot into a listener's lag memory, closes the sessions on replicas that have
   * lagged long enough, and sets a timer for the next one due (a replica whose replay is paused
   * makes no new snapshots, but its sessions must still go on time).
   */
  private followLag(runtime: ListenerRuntime, state: ClusterState): void {
    const lag = runtime.lag;
    if (lag === undefined) return;
    const now = this.services.clock.now();
    lag.observe(state, now);
    fenceLaggingSessions(runtime, state, now, this.events);
    if (runtime.lagTimer !== undefined) this.services.clock.clearTimeout(runtime.lagTimer);
    runtime.lagTimer = undefined;
    const next = lag.nextFenceAt();
    if (next === undefined || runtime.retired) return;
    runtime.lagTimer = this.services.clock.setTimeout(
      () => {
        runtime.lagTimer = undefined;
        const current = this.options.feeds.get(runtime.config.cluster)?.current();
        if (current !== undefined) this.followLag(runtime, current);
        // Past due means busy sessions were spared: look again now and then, not in a tight loop.
      },
      next > now ? next - now : LAG_RECHECK_MS,
    );
    runtime.lagTimer.unref();
  }

  /** A split listener needs its cluster's replay positions and function catalog: started with the first one. */
  private followForSplit(runtime: ListenerRuntime): void {
    const split = runtime.config.split;
    const feed = this.options.feeds.get(runtime.config.cluster);
    if (split === undefined || runtime.split === undefined || feed === undefined || this.options.auth === undefined) return;
    let cluster = this.splitClusters.get(runtime.config.cluster);
    if (cluster === undefined) {
      const log = this.log.child({ cluster: runtime.config.cluster });
      const auth = this.options.auth;
      const catalog = new CatalogSource(feed, this.services.connector, auth, allowedFunctions([]), split.catalogRefreshMs, (c) => this.catalogRead(runtime.config.cluster, c), log);
      cluster = { replay: new ReplayWatch(feed, this.services.connector, auth, split.replayPollMs, log), catalog };
      this.splitClusters.set(runtime.config.cluster, cluster);
      cluster.replay.start();
      // The catalog wants a primary to read from: once the topology is known.
      if (feed.current() !== undefined) catalog.start();
      else {
        const unsubscribe = feed.subscribe(() => {
          unsubscribe();
          catalog.start();
        });
        this.unsubscribes.push(unsubscribe);
      }
    }
    if (cluster.latest !== undefined) runtime.split.classifier.useCatalog(withAllowedFunctions(cluster.latest, allowedFunctions(split.safeFunctions)));
  }

  private catalogRead(scope: string, catalog: FunctionCatalog): void {
    const cluster = this.splitClusters.get(scope);
    if (cluster !== undefined) cluster.latest = catalog;
    for (const runtime of this.allRuntimes()) {
      if (runtime.config.cluster !== scope || runtime.split === undefined || runtime.config.split === undefined) continue;
      runtime.split.classifier.useCatalog(withAllowedFunctions(catalog, allowedFunctions(runtime.config.split.safeFunctions)));
    }
  }

  /** The split listeners' classifier counters, for the metrics. */
  classifierCounters(): Array<{ listener: string; hitRatio: number; parseSeconds: number }> {
    return this.allRuntimes().flatMap((r) =>
      r.split === undefined ? [] : [{ listener: r.config.name, hitRatio: r.split.classifier.hitRatio(), parseSeconds: r.split.classifier.counters().parseSeconds }],
    );
  }

  private async startListener(config: ListenerConfig): Promise<void> {
    // A split listener classifies with PostgreSQL's grammar; until it is loaded everything would go to the primary.
    if (config.split !== undefined || config.moveSessions) await loadSqlParser();
    const runtime = new ListenerRuntime(config);
    this.followForSplit(runtime);
    runtime.server = await openListener(runtime, (socket) => this.accept(runtime, socket));
    runtime.server.on('error', (err) => this.log.error({ listener: config.name, err: err.message }, 'listener error'));
    this.active.set(config.name, runtime);
    this.log.info({ listener: config.name, host: config.host, port: boundPort(runtime.server), route: config.route }, 'listening');
  }

  private async retire(runtime: ListenerRuntime): Promise<void> {
    this.active.delete(runtime.config.name);
    runtime.retired = true;
    if (runtime.lagTimer !== undefined) this.services.clock.clearTimeout(runtime.lagTimer);
    await closeListener(runtime.server);
    this.services.holdQueue.release(runtime.config.name);
    if (runtime.sessions.size > 0) this.retired.add(runtime);
  }

  private accept(runtime: ListenerRuntime, socket: net.Socket): void {
    if (this.closing || runtime.retired) {
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const session = new Session(socket, runtime, this.services, (s) => this.sessionClosed(runtime, s));
    runtime.sessions.add(session);
    this.events.connectionAccepted({ listener: runtime.config.name });
    session.start();
  }

  private sessionClosed(runtime: ListenerRuntime, session: SessionHandle): void {
    runtime.sessions.delete(session);
    if (runtime.retired && runtime.sessions.size === 0) this.retired.delete(runtime);
    for (const check of [...this.sessionsGone]) check();
  }
}

/** Observer hooks must never break a session: a throwing hook is logged and ignored. */
function guardEvents(events: ProxyEvents, log: Logger): ProxyEvents {
  const guarded = {} as Record<keyof ProxyEvents, (e: never) => void>;
  for (const key of Object.keys(noProxyEvents) as Array<keyof ProxyEvents>) {
    guarded[key] = (e: never): void => {
      try {
        (events[key] as (e: never) => void).call(events, e);
      } catch (err) {
        log.warn({ hook: key, err }, 'proxy event hook threw');
      }
    };
  }
  return guarded as unknown as ProxyEvents;
}
