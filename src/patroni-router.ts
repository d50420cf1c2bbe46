/**
 * The composition root: followers for each cluster, the proxy, the admin server, and the
 * life cycle around them (start, SIGHUP reload, drain). No module singletons: a test can run
 * two routers in one process.
 */
import type { Logger } from 'pino';
import type { AdminContext, DcsHealth } from './admin/admin-context.js';
import { AdminServer } from './admin/admin-server.js';
import { EventLog } from './observe/event-log.js';
import { followFeeds } from './observe/follow-feeds.js';
import { RouterMetrics } from './observe/metrics.js';
import type { ClusterSource, RouterConfig } from './config/types.js';
import { fanOutProxyEvents } from './observe/proxy-event-fanout.js';
import { sessionLog } from './observe/session-log.js';
import type { ProxyEvents } from './proxy/proxy-events.js';
import { ProxyServer, type ListenerSessions, type ListenerStatus } from './proxy/proxy-server.js';
import type { SessionHandle } from './proxy/session-handle.js';
import type { ClusterFeed } from './topology/cluster-feed.js';
import { ClusterFollower } from './topology/cluster-follower.js';
import { FeedSlot } from './topology/feed-slot.js';
import { configWarnings } from './config/warnings.js';
import { settingsNeedingRestart } from './config/reload-scope.js';

export interface PatroniRouterOptions {
  config: RouterConfig;
  logger: Logger;
  /** Extra observers of proxy events (tests). */
  events?: ProxyEvents[];
}

export interface ReloadResult {
  listeners: { added: string[]; removed: string[]; restarted: string[]; unchanged: string[] };
  clusters: { added: string[]; removed: string[]; replaced: string[] };
  /** Settings that changed in the file but apply only after a restart. */
  notApplied: string[];
}

const sameSource = (a: ClusterSource, b: ClusterSource): boolean => JSON.stringify(a) === JSON.stringify(b);

export class PatroniRouter implements AdminContext {
  private currentConfig: RouterConfig;
  private readonly log: Logger;
  private readonly slots = new Map<string, FeedSlot<ClusterFollower>>();
  private readonly proxy: ProxyServer;
  readonly eventLog = new EventLog();
  readonly metrics: RouterMetrics;
  private admin: AdminServer | undefined;
  private unfollow: (() => void) | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: PatroniRouterOptions) {
    this.currentConfig = options.config;
    this.log = options.logger;
    for (const cluster of options.config.clusters) this.slots.set(cluster.scope, new FeedSlot(this.follower(cluster)));
    this.metrics = new RouterMetrics({
      clusterOfListener: (name) => this.currentConfig.listeners.find((l) => l.name === name)?.cluster,
      dcsHealth: () => this.dcsHealth(),
      onFailoverStep: (cluster, step) => this.eventLog.failoverStep(cluster, step),
      sessions: () => this.proxy.sessions(),
      classifiers: () => this.proxy.classifierCounters(),
    });
    this.proxy = new ProxyServer({
      listeners: options.config.listeners,
      tls: options.config.tls,
      startupTimeoutMs: options.config.startupTimeoutMs,
      authenticationTimeoutMs: options.config.authenticationTimeoutMs,
      targetParameterPrefix: options.config.targetParameterPrefix,
      ...(options.config.auth !== undefined ? { auth: options.config.auth } : {}),
      feeds: this.slots,
      logger: this.log,
      events: fanOutProxyEvents([sessionLog(this.log), this.metrics, this.eventLog, ...(options.events ?? [])]),
    });
  }

  /** Starts following every cluster and binds every listener; rejects if a port cannot be bound. */
  async start(): Promise<void> {
    if (this.started) throw new Error('PatroniRouter already started');
    this.started = true;
    for (const warning of configWarnings(this.currentConfig)) this.log.warn(warning);
    this.unfollow = followFeeds(this.slots, [this.metrics, this.eventLog]);
    for (const slot of this.slots.values()) {
      slot.subscribe((change) => {
        if (change.changes.length > 0) this.log.info({ cluster: slot.scope, generation: change.next.generation, changes: change.changes }, 'topology changed');
      });
      slot.active().start();
    }
    try {
      await this.proxy.start();
      if (this.currentConfig.admin.enabled) {
        this.admin = new AdminServer({ context: this, metrics: this.metrics, events: this.eventLog, logger: this.log });
        await this.admin.start();
      }
    } catch (err) {
      await this.proxy.close();
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
    const before = new Set(this.slots.keys());
    const after = new Set(next.clusters.map((c) => c.scope));
    const added = [...after].filter((s) => !before.has(s));
    const removed = [...before].filter((s) => !after.has(s));
    if (added.length > 0 || removed.length > 0) {
      throw new Error(`the followed clusters changed (added: ${added.join(', ') || 'none'}; removed: ${removed.join(', ') || 'none'}): restart the router to apply that`);
    }
    const replaced: string[] = [];
    for (const cluster of next.clusters) {
      const old = this.currentConfig.clusters.find((c) => c.scope === cluster.scope);
      const slot = this.slots.get(cluster.scope);
      if (old === undefined || slot === undefined || sameSource(old, cluster)) continue;
      const follower = this.follower(cluster);
      slot.replace(follower);
      follower.start();
      replaced.push(cluster.scope);
    }
    const notApplied = settingsNeedingRestart(this.currentConfig, next);
    if (notApplied.length > 0) this.log.warn({ settings: notApplied }, 'these settings changed but apply only after a restart');
    const listeners = await this.proxy.applyListeners(next.listeners);
    // The admin server keeps its address until a restart; its token follows the file.
    // What only a restart changes stays as running; the admin token follows the file.
    const running = this.currentConfig;
    const admin = { ...running.admin };
    if (next.admin.token === undefined) delete admin.token;
    else admin.token = next.admin.token;
    const { auth: _nextAuth, ...rest } = next;
    this.currentConfig = {
      ...rest,
      ...(running.auth !== undefined ? { auth: running.auth } : {}),
      tls: running.tls,
      startupTimeoutMs: running.startupTimeoutMs,
      authenticationTimeoutMs: running.authenticationTimeoutMs,
      targetParameterPrefix: running.targetParameterPrefix,
      admin,
    };
    const changed = (label: string, names: string[]): string => `${label}: ${names.join(', ') || 'none'}`;
    this.eventLog.reloaded(
      [changed('listeners added', listeners.added), changed('removed', listeners.removed), changed('restarted', listeners.restarted), changed('clusters replaced', replaced)].join('; '),
    );
    return { listeners, clusters: { added, removed, replaced }, notApplied };
  }

  /** Stops accepting, lets sessions finish for up to drainTimeoutMs, closes the rest with 57P01. */
  async shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      await this.proxy.drain(this.currentConfig.drainTimeoutMs);
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
    return this.proxy.listeners();
  }
  sessions(): ListenerSessions[] {
    return this.proxy.sessions();
  }
  /** The open sessions of one listener (tests open links through them). */
  sessionsOf(listener: string): SessionHandle[] {
    return this.proxy.sessionsOf(listener);
  }
  ready(): boolean {
    const topologyKnown = [...this.slots.values()].every((s) => s.current() !== undefined);
    const listening = this.proxy.listeners().filter((l) => !l.retired).every((l) => l.accepting);
    return this.started && this.stopping === undefined && topologyKnown && listening;
  }

  private follower(cluster: ClusterSource): ClusterFollower {
    return new ClusterFollower(cluster, this.log);
  }
}
