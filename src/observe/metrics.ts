import { collectDefaultMetrics, Registry } from 'prom-client';
import type { DcsHealth } from '../admin/admin-context.js';
import type { ListenerSessions } from '../proxy/proxy-server.js';
import type { ProxyEvent, ProxyEvents } from '../proxy/proxy-events.js';
import type { StateChange } from '../topology/cluster-state.js';
import type { FailoverEpisode, TimelineStep } from './failover-timeline.js';
import { ProxyMetrics } from './proxy-metrics.js';
import { TopologyMetrics } from './topology-metrics.js';

export interface RouterMetricsOptions {
  /** Default: a fresh Registry, so two routers in one process keep separate numbers. */
  registry?: Registry;
  now?: () => number;
  /** Which cluster a listener routes to (failover phases are per cluster). */
  clusterOfListener?: (listener: string) => string | undefined;
  /** Read at scrape time; without it, DCS metrics are derived from the snapshots. */
  dcsHealth?: () => DcsHealth[];
  /** Node's process metrics (CPU, memory, event loop lag). Default true. */
  defaultMetrics?: boolean;
  /** Told of every failover step (e.g. the EventLog, for the status page's timeline). */
  onFailoverStep?: (cluster: string, step: TimelineStep) => void;
  /** The proxy's sessions as they are, read at scrape time (see ProxyMetrics). */
  sessions?: () => readonly ListenerSessions[];
  /** The split listeners' classifier counters, read at scrape time. */
  classifiers?: () => ReadonlyArray<{ listener: string; hitRatio: number; parseSeconds: number }>;
}

/**
 * The metrics of a router that runs in one process: the proxy's (ProxyMetrics) and the
 * topology's (TopologyMetrics) in one registry. With workers the two live in different
 * processes (src/workers/).
 */
export class RouterMetrics implements ProxyEvents {
  readonly registry: Registry;
  private readonly proxy: ProxyMetrics;
  private readonly topology: TopologyMetrics;

  constructor(options: RouterMetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.topology = new TopologyMetrics({
      registry: this.registry,
      ...(options.now !== undefined ? { now: options.now } : {}),
      ...(options.clusterOfListener !== undefined ? { clusterOfListener: options.clusterOfListener } : {}),
      ...(options.dcsHealth !== undefined ? { dcsHealth: options.dcsHealth } : {}),
      ...(options.onFailoverStep !== undefined ? { onFailoverStep: options.onFailoverStep } : {}),
    });
    this.proxy = new ProxyMetrics({
      registry: this.registry,
      ...(options.sessions !== undefined ? { sessions: options.sessions } : {}),
      ...(options.classifiers !== undefined ? { classifiers: options.classifiers } : {}),
      membersOf: (cluster) => this.topology.membersOf(cluster),
    });
  }

  /** Prometheus text exposition of every metric in this router's registry. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Subscribe this to each ClusterFeed. */
  observeState(change: StateChange): void {
    this.topology.observeState(change);
  }

  /** Per cluster: the open failover episode, else the last one (for the status page). */
  failoverEpisodes(): Record<string, FailoverEpisode | undefined> {
    return this.topology.failoverEpisodes();
  }

  connectionAccepted(e: ProxyEvent<'connectionAccepted'>): void {
    this.proxy.connectionAccepted(e);
  }

  sessionStarted(e: ProxyEvent<'sessionStarted'>): void {
    this.topology.sessionStarted(e);
  }

  sessionEnded(e: ProxyEvent<'sessionEnded'>): void {
    this.proxy.sessionEnded(e);
  }

  refused(e: ProxyEvent<'refused'>): void {
    this.proxy.refused(e);
  }

  holdStarted(_e: ProxyEvent<'holdStarted'>): void {}

  holdEnded(e: ProxyEvent<'holdEnded'>): void {
    this.proxy.holdEnded(e);
  }

  fenced(e: ProxyEvent<'fenced'>): void {
    this.proxy.fenced(e);
    this.topology.fenced(e);
  }

  cancel(e: ProxyEvent<'cancel'>): void {
    this.proxy.cancel(e);
  }

  unitRouted(e: ProxyEvent<'unitRouted'>): void {
    this.proxy.unitRouted(e);
  }

  readRetried(e: ProxyEvent<'readRetried'>): void {
    this.proxy.readRetried(e);
  }

  replayChecked(e: ProxyEvent<'replayChecked'>): void {
    this.proxy.replayChecked(e);
  }

  readHeld(e: ProxyEvent<'readHeld'>): void {
    this.proxy.readHeld(e);
  }

  sessionPinned(e: ProxyEvent<'sessionPinned'>): void {
    this.proxy.sessionPinned(e);
  }

  sessionMoved(e: ProxyEvent<'sessionMoved'>): void {
    this.proxy.sessionMoved(e);
  }

  sessionNotMoved(e: ProxyEvent<'sessionNotMoved'>): void {
    this.proxy.sessionNotMoved(e);
  }
}
