/**
 * The composition root: followers for each cluster, the proxy, the admin server, and the
 * life cycle around them (start, SIGHUP reload, drain). No module singletons: a test can run
 * two routers in one process.
 */
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { AdminContext, DcsHealth, WorkerStatus } from './admin/admin-context.js';
import { AdminServer, type MetricsSource } from './admin/admin-server.js';
import { EventLog } from './observe/event-log.js';
import { followFeeds, type StateObserver } from './observe/follow-feeds.js';
import { RouterMetrics } from './observe/metrics.js';
import { timelineEvents, TopologyMetrics } from './observe/topology-metrics.js';
import type { ClusterSource, RouterConfig } from './config/types.js';
import { inProcessHost, type ListenerHost } from './listener-host.js';
import { fanOutProxyEvents } from './observe/proxy-event-fanout.js';
import { sessionLog } from './observe/session-log.js';
import type { ProxyEvents } from './proxy/proxy-events.js';
import { ProxyServer, type ListenerSessions, type ListenerStatus } from './proxy/proxy-server.js';
import type { SessionHandle } from './proxy/session-handle.js';
import type { ClusterFeed } from './topology/cluster-feed.js';
import { ClusterFollower } from './topology/cluster-follower.js';
import { FeedSlot } from './topology/feed-slot.js';
import { configWarnings } from './config/warnings.js';
import { reloadPlan } from './config/reload-plan.js';
import { PooledMetrics } from './workers/pooled-metrics.js';
import { WorkerPool } from './workers/worker-pool.js';
import { workerCount } from './workers/worker-count.js';

export interface PatroniRouterOptions {
  config: RouterConfig;
  logger: Logger;
  /** Extra observers of proxy events (tests); with workers they hear what the workers tell the primary. */
  events?: ProxyEvents[];
  /** The cores `workers: auto` counts; default this machine's. */
  cores?: number;
  /** `--log-format`, for the worker processes' logs. */
  logFormat?: 'json' | 'pretty';
}

export interface ReloadResult {
  listeners: { added: string[]; removed: string[]; restarted: string[]; unchanged: string[] };
  clusters: { added: string[]; removed: string[]; replaced: string[] };
  /** Settings that changed in the file but apply only after a restart. */
  notApplied: string[];
}

export class PatroniRouter implements AdminContext {
  private currentConfig: RouterConfig;
  private readonly log: Logger;
  private readonly slots = new Map<string, FeedSlot<ClusterFollower>>();
  /** Where the listeners run: this process, or worker processes (`workers`). */
  private readonly host: ListenerHost;
  /** Set when the listeners run in this process. */
  private readonly proxy: ProxyServer | undefined;
  readonly eventLog = new EventLog();
  readonly metrics: MetricsSource;
  /** Told of every snapshot: the metrics' topology part and the event log. */
  private readonly stateObservers: StateObserver[];
  /** With workers: each worker process, for /topology. */
  readonly workers?: () => Promise<WorkerStatus[]>;
  private admin: AdminServer | undefined;
  private unfollow: (() => void) | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: PatroniRouterOptions) {
    this.currentConfig = options.config;
    this.log = options.logger;
    for (const cluster of options.config.clusters) this.slots.set(cluster.scope, new FeedSlot(this.follower(cluster)));
    const config = options.config;
    const topologyOptions = {
      clusterOfListener: (name: string) => this.currentConfig.listeners.find((l) => l.name === name)?.cluster,
      dcsHealth: () => this.dcsHealth(),
      onFailoverStep: (cluster: string, step: Parameters<EventLog['failoverStep']>[1]) => this.eventLog.failoverStep(cluster, step),
    };
    const count = workerCount(config.workers, options.cores ?? availableParallelism());
    if (count === 1) {
      let proxy: ProxyServer | undefined;
      const metrics = new RouterMetrics({ ...topologyOptions, sessions: () => proxy?.sessions() ?? [], classifiers: () => proxy?.classifierCounters() ?? [] });
      proxy = new ProxyServer({
        listeners: config.listeners,
        tls: config.tls,
        startupTimeoutMs: config.startupTimeoutMs,
        authenticationTimeoutMs: config.authenticationTimeoutMs,
        targetParameterPrefix: config.targetParameterPrefix,
        ...(config.auth !== undefined ? { auth: config.auth } : {}),
        feeds: this.slots,
        logger: this.log,
        events: fanOutProxyEvents([sessionLog(this.log), metrics, this.eventLog, ...(options.events ?? [])]),
      });
      this.proxy = proxy;
      this.host = inProcessHost(proxy);
      this.metrics = metrics;
      this.stateObservers = [metrics, this.eventLog];
    } else {
      // The primary process: its own registry holds the topology's metrics, the pool's and its process's.
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      const topology = new TopologyMetrics({ registry, ...topologyOptions });
      const pool = new WorkerPool({
        count,
        config,
        feeds: this.slots,
        logger: this.log,
        ...(options.logFormat !== undefined ? { logFormat: options.logFormat } : {}),
        events: fanOutProxyEvents([timelineEvents(topology), this.eventLog, ...(options.events ?? [])]),
        registry,
      });
      this.proxy = undefined;
      this.host = pool;
      this.metrics = new PooledMetrics(registry, topology, pool);
      this.stateObservers = [topology, this.eventLog];
      this.workers = () => pool.workers();
    }
  }

  /** Starts following every cluster and binds every listener; rejects if a port cannot be bound. */
  async start(): Promise<void> {
    if (this.started) throw new Error('PatroniRouter already started');
    this.started = true;
    for (const warning of configWarnings(this.currentConfig)) this.log.warn(warning);
    this.unfollow = followFeeds(this.slots, this.stateObservers);
    for (const slot of this.slots.values()) {
      slot.subscribe((change) => {
        if (change.changes.length > 0) this.log.info({ cluster: slot.scope, generation: change.next.generation, changes: change.changes }, 'topology changed');
      });
      slot.active().start();
    }
    try {
      await this.host.start();
      if (this.currentConfig.admin.enabled) {
        this.admin = new AdminServer({ context: this, metrics: this.metrics, events: this.eventLog, logger: this.log });
        await this.admin.start();
      }
    } catch (err) {
      await this.host.close();
      this.unfollow();
      await Promise.all([...this.slots.values()].map((s) => s.stop()));
      throw err;
    }
  }

  /** The admin server's base URL (with the bound port), when it runs. */
  adminUrl(): string | undefined {
    return this.admin?.url;
  }

  /**
   * SIGHUP: listeners added, removed or changed without touching the sessions of unchanged
   * ones; a cluster whose DCS settings changed gets a new follower that takes over once it
   * has read the topology. Clusters cannot be added or removed while running (restart).
   */
  async reload(next: RouterConfig): Promise<ReloadResult> {
    const plan = reloadPlan(this.currentConfig, next);
    if (plan.refusal !== undefined) throw new Error(plan.refusal);
    const { added, removed } = plan.clusters;
    const replaced: string[] = [];
    for (const scope of plan.clusters.replaced) {
      const cluster = plan.effective.clusters.find((c) => c.scope === scope);
      const slot = this.slots.get(scope);
      if (cluster === undefined || slot === undefined) continue;
      const follower = this.follower(cluster);
      slot.replace(follower);
      follower.start();
      replaced.push(scope);
    }
    const { notApplied, effective } = plan;
    if (notApplied.length > 0) this.log.warn({ settings: notApplied }, 'these settings changed but apply only after a restart');
    const listeners = await this.host.reload(effective);
    this.currentConfig = effective;
    const changed = (label: string, names: string[]): string => `${label}: ${names.join(', ') || 'none'}`;
    this.eventLog.reloaded(
      [changed('listeners added', listeners.added), changed('removed', listeners.removed), changed('restarted', listeners.restarted), changed('clusters replaced', replaced)].join(
        '; ',
      ),
    );
    return { listeners, clusters: { added, removed, replaced }, notApplied };
  }

  /** Stops accepting, lets sessions finish for up to drainTimeoutMs, closes the rest with 57P01. */
  async shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      await this.host.drain(this.currentConfig.drainTimeoutMs);
      await this.admin?.close();
      this.unfollow?.();
      await Promise.all([...this.slots.values()].map((s) => s.stop()));
    })();
    return this.stopping;
  }

  // AdminContext
  config(): RouterConfig {
    return this.currentConfig;
  }
  feeds(): ReadonlyMap<string, ClusterFeed> {
    return this.slots;
  }
  dcsHealth(): DcsHealth[] {
    return [...this.slots.values()].map((slot) => {
      const status = slot.active().status();
      const health: DcsHealth = { scope: slot.scope, watch: status.source === 'rest' && status.watch === 'connected' ? 'polling' : status.watch };
      if (status.lastContact !== undefined) health.lastContact = status.lastContact;
      return health;
    });
  }
  listeners(): ListenerStatus[] {
    return this.host.listeners();
  }
  /** With workers, summed over them (asked when called). */
  sessions(): ListenerSessions[] | Promise<ListenerSessions[]> {
    return this.host.sessions();
  }
  /** The open sessions of one listener (tests open links through them); none when they live in worker processes. */
  sessionsOf(listener: string): SessionHandle[] {
    return this.proxy?.sessionsOf(listener) ?? [];
  }
  ready(): boolean {
    const topologyKnown = [...this.slots.values()].every((s) => s.current() !== undefined);
    const listeners = this.host.listeners();
    const listening = this.currentConfig.listeners.every((c) => listeners.some((l) => l.name === c.name && !l.retired && l.accepting));
    return this.started && this.stopping === undefined && topologyKnown && listening;
  }

  private follower(cluster: ClusterSource): ClusterFollower {
    return new ClusterFollower(cluster, this.log);
  }
}
