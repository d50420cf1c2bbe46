import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DcsHealth } from '../admin/admin-context.js';
import { noProxyEvents, type ProxyEvents } from '../proxy/proxy-events.js';
import type { ClusterState, MemberRole, StateChange } from '../topology/cluster-state.js';
import { FailoverTimeline, type FailoverEpisode, type TimelineStep } from './failover-timeline.js';

export interface TopologyMetricsOptions {
  registry: Registry;
  now?: () => number;
  /** Which cluster a listener routes to (failover phases are per cluster). */
  clusterOfListener?: (listener: string) => string | undefined;
  /** Read at scrape time; without it, DCS metrics are derived from the snapshots. */
  dcsHealth?: () => DcsHealth[];
  /** Told of every failover step (e.g. the EventLog, for the status page's timeline). */
  onFailoverStep?: (cluster: string, step: TimelineStep) => void;
}

const P = 'patroni_router_';
const ROLES: readonly MemberRole[] = ['primary', 'replica', 'standby_leader', 'promoted', 'demoted', 'uninitialized', 'unknown'];
const WATCH_STATES = ['connecting', 'connected', 'watching', 'polling', 'reconnecting', 'stopped'];
const SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];

/**
 * What the followed topology says: each cluster's latest snapshot (generation, roles, lag,
 * DCS health), computed at scrape time, and the switchover/failover phases, timed from the
 * snapshots and from two proxy events (a session fenced, a session started). Only the process
 * that follows the topology has these: with workers, the primary process (`aggregator:
 * 'first'`, as there is one source).
 */
export class TopologyMetrics {
  private readonly now: () => number;
  private readonly clusterOfListener: (listener: string) => string | undefined;
  private readonly onFailoverStep: ((cluster: string, step: TimelineStep) => void) | undefined;
  private readonly states = new Map<string, ClusterState>();
  private readonly timelines = new Map<string, FailoverTimeline>();
  private readonly failoverPhase: Histogram<'cluster' | 'phase'>;
  private readonly failovers: Counter<'cluster'>;

  constructor(options: TopologyMetricsOptions) {
    const registers = [options.registry];
    this.now = options.now ?? Date.now;
    this.clusterOfListener = options.clusterOfListener ?? (() => undefined);
    this.onFailoverStep = options.onFailoverStep;
    this.failoverPhase = new Histogram({
      name: `${P}failover_phase_seconds`,
      help: 'Seconds from a switchover/failover being first seen to each phase: demote_begun (switchovers, Patroni 3+), old_primary_fenced, new_primary_usable, first_session_routed.',
      labelNames: ['cluster', 'phase'],
      buckets: SECONDS_BUCKETS,
      registers,
      aggregator: 'first',
    });
    this.failovers = new Counter({
      name: `${P}failovers_total`,
      help: 'Changes of writable primary (switchovers and failovers).',
      labelNames: ['cluster'],
      registers,
      aggregator: 'first',
    });

    const states = (): ClusterState[] => [...this.states.values()];
    new Gauge({
      name: `${P}topology_generation`,
      help: 'Generation of the latest cluster snapshot.',
      labelNames: ['cluster'],
      registers,
      aggregator: 'first',
      collect() {
        this.reset();
        for (const s of states()) this.set({ cluster: s.scope }, s.generation);
      },
    });
    new Gauge({
      name: `${P}member_role`,
      help: '1 for the role each member has in the latest snapshot.',
      labelNames: ['cluster', 'member', 'role'],
      registers,
      aggregator: 'first',
      collect() {
        this.reset();
        for (const s of states()) for (const m of s.members) this.set({ cluster: s.scope, member: m.name, role: ROLES.includes(m.role) ? m.role : 'unknown' }, 1);
      },
    });
    new Gauge({
      name: `${P}member_lag_bytes`,
      help: 'Bytes a member is behind the leader (live from REST when available, else from the DCS).',
      labelNames: ['cluster', 'member'],
      registers,
      aggregator: 'first',
      collect() {
        this.reset();
        for (const s of states()) for (const m of s.members) if (m.lagBytes !== undefined) this.set({ cluster: s.scope, member: m.name }, m.lagBytes);
      },
    });
    const health = (): DcsHealth[] =>
      options.dcsHealth?.() ?? states().map((s) => ({ scope: s.scope, watch: s.stale ? 'reconnecting' : 'connected', lastContact: s.lastDcsContact }));
    const now = this.now;
    new Gauge({
      name: `${P}dcs_last_contact_seconds`,
      help: 'Seconds since the last successful contact with the DCS.',
      labelNames: ['cluster'],
      registers,
      aggregator: 'first',
      collect() {
        this.reset();
        for (const h of health()) if (h.lastContact !== undefined) this.set({ cluster: h.scope }, Math.max(0, (now() - h.lastContact) / 1000));
      },
    });
    new Gauge({
      name: `${P}dcs_watch_state`,
      help: '1 for the current state of the DCS link.',
      labelNames: ['cluster', 'state'],
      registers,
      aggregator: 'first',
      collect() {
        this.reset();
        for (const h of health()) {
          for (const state of new Set([...WATCH_STATES, h.watch])) this.set({ cluster: h.scope, state }, state === h.watch ? 1 : 0);
        }
      },
    });
  }

  /** Subscribe this to each ClusterFeed. */
  observeState(change: StateChange): void {
    const cluster = change.next.scope;
    this.states.set(cluster, change.next);
    this.apply(cluster, this.timeline(cluster).observeState(change.previous, change.next, this.now()));
  }

  /** The members of a cluster in its latest snapshot. */
  membersOf(cluster: string): readonly string[] {
    return this.states.get(cluster)?.members.map((m) => m.name) ?? [];
  }

  /** Per cluster: the open failover episode, else the last one (for the status page). */
  failoverEpisodes(): Record<string, FailoverEpisode | undefined> {
    return Object.fromEntries([...this.timelines].map(([cluster, t]) => [cluster, t.episode()]));
  }

  /** A session got a backend connection: the first on a new primary ends a failover. */
  sessionStarted(e: { listener: string; member: string }): void {
    const cluster = this.clusterOfListener(e.listener);
    if (cluster !== undefined) this.apply(cluster, this.timeline(cluster).sessionStarted(e.member, this.now()));
  }

  /** Sessions were fenced: on the old primary, that is a failover phase. */
  fenced(e: { listener: string; member: string }): void {
    const cluster = this.clusterOfListener(e.listener);
    if (cluster !== undefined) this.apply(cluster, this.timeline(cluster).sessionsFenced(e.member, this.now()));
  }

  private timeline(cluster: string): FailoverTimeline {
    let t = this.timelines.get(cluster);
    if (t === undefined) this.timelines.set(cluster, (t = new FailoverTimeline()));
    return t;
  }

  private apply(cluster: string, steps: TimelineStep[]): void {
    for (const step of steps) {
      if (step.type === 'phase') {
        this.failoverPhase.observe({ cluster, phase: step.phase }, step.ms / 1000);
        if (step.phase === 'new_primary_usable') this.failovers.inc({ cluster });
      }
      this.onFailoverStep?.(cluster, step);
    }
  }
}

/** The two proxy events TopologyMetrics times failovers with, as ProxyEvents (the rest ignored). */
export function timelineEvents(metrics: TopologyMetrics): ProxyEvents {
  return { ...noProxyEvents, sessionStarted: (e) => metrics.sessionStarted(e), fenced: (e) => metrics.fenced(e) };
}
