import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DcsHealth } from '../admin/admin-context.js';
import type { ListenerSessions } from '../proxy/proxy-server.js';
import type { ProxyEvent, ProxyEvents } from '../proxy/proxy-events.js';
import type { ClusterState, MemberRole, StateChange } from '../topology/cluster-state.js';
import { FailoverTimeline, type FailoverEpisode, type TimelineStep } from './failover-timeline.js';

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
  /**
   * The proxy's sessions as they are, read at scrape time: the session and held gauges are
   * what the router holds then, never a running sum of events that could drift.
   */
  sessions?: () => readonly ListenerSessions[];
  /** The split listeners' classifier counters, read at scrape time. */
  classifiers?: () => ReadonlyArray<{ listener: string; hitRatio: number; parseSeconds: number }>;
}

const P = 'patroni_router_';
const ROLES: readonly MemberRole[] = ['primary', 'replica', 'standby_leader', 'promoted', 'demoted', 'uninitialized', 'unknown'];
const WATCH_STATES = ['connecting', 'connected', 'watching', 'polling', 'reconnecting', 'stopped'];
const SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];

/**
 * The router's Prometheus metrics. Proxy events move counters and gauges as they happen; the
 * topology gauges are computed at scrape time from the latest snapshot of each cluster.
 */
export class RouterMetrics implements ProxyEvents {
  readonly registry: Registry;
  private readonly now: () => number;
  private readonly clusterOfListener: (listener: string) => string | undefined;
  private readonly onFailoverStep: ((cluster: string, step: TimelineStep) => void) | undefined;
  private readonly states = new Map<string, ClusterState>();
  private readonly timelines = new Map<string, FailoverTimeline>();

  private readonly accepted: Counter<'listener'>;
  private readonly refusedTotal: Counter<'listener' | 'reason'>;
  private readonly holdWait: Histogram<'listener' | 'outcome'>;
  private readonly fencedTotal: Counter<'listener' | 'member'>;
  private readonly cancels: Counter<'outcome'>;
  private readonly bytes: Counter<'listener' | 'direction'>;
  private readonly sessionsEnded: Counter<'listener' | 'ending'>;
  private readonly failoverPhase: Histogram<'cluster' | 'phase'>;
  private readonly failovers: Counter<'cluster'>;
  private readonly unitsRouted: Counter<'listener' | 'destination' | 'reason'>;
  private readonly readsRetried: Counter<'listener'>;
  private readonly pins: Counter<'listener' | 'pin'>;
  private readonly moves: Counter<'listener'>;
  private readonly notMoved: Counter<'listener' | 'reason'>;
  private readonly moveWait: Histogram<'listener'>;

  constructor(options: RouterMetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    this.now = options.now ?? Date.now;
    this.clusterOfListener = options.clusterOfListener ?? (() => undefined);
    this.onFailoverStep = options.onFailoverStep;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    const sessions = options.sessions ?? (() => []);
    const knownStates = this.states;
    new Gauge({
      name: `${P}sessions`,
      help: 'Open sessions with a backend connection, per listener and member.',
      labelNames: ['listener', 'member'],
      registers,
      collect() {
        this.reset();
        for (const l of sessions()) {
          // Every member of the listener's cluster has a series, 0 when idle, so a dashboard line does not vanish.
          for (const m of knownStates.get(l.cluster)?.members ?? []) this.set({ listener: l.listener, member: m.name }, 0);
          for (const [member, n] of Object.entries(l.byMember)) this.set({ listener: l.listener, member }, n);
        }
      },
    });
    this.accepted = new Counter({ name: `${P}connections_accepted_total`, help: 'Client connections accepted.', labelNames: ['listener'], registers });
    this.refusedTotal = new Counter({ name: `${P}connections_refused_total`, help: 'Clients answered with a FATAL error by the router itself.', labelNames: ['listener', 'reason'], registers });
    new Gauge({
      name: `${P}held_connections`,
      help: 'Connections waiting for a usable member (held for a candidate, or between attempts).',
      labelNames: ['listener'],
      registers,
      collect() {
        this.reset();
        for (const l of sessions()) this.set({ listener: l.listener }, l.held);
      },
    });
    this.holdWait = new Histogram({ name: `${P}hold_wait_seconds`, help: 'How long held connections waited.', labelNames: ['listener', 'outcome'], buckets: SECONDS_BUCKETS, registers });
    this.fencedTotal = new Counter({ name: `${P}fenced_sessions_total`, help: 'Sessions closed because their member stopped being eligible.', labelNames: ['listener', 'member'], registers });
    this.cancels = new Counter({ name: `${P}cancel_requests_total`, help: 'CancelRequests received.', labelNames: ['outcome'], registers });
    this.bytes = new Counter({ name: `${P}bytes_relayed_total`, help: 'Bytes relayed, counted when a session ends.', labelNames: ['listener', 'direction'], registers });
    this.sessionsEnded = new Counter({ name: `${P}sessions_ended_total`, help: 'Sessions ended, by how they ended.', labelNames: ['listener', 'ending'], registers });
    this.failoverPhase = new Histogram({
      name: `${P}failover_phase_seconds`,
      help: 'Seconds from a switchover/failover being first seen to each phase: old_primary_fenced, new_primary_usable, first_session_routed.',
      labelNames: ['cluster', 'phase'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.failovers = new Counter({ name: `${P}failovers_total`, help: 'Changes of writable primary (switchovers and failovers).', labelNames: ['cluster'], registers });

    this.unitsRouted = new Counter({ name: `${P}statements_routed_total`, help: 'Units (a query, an extended-protocol batch) split sessions sent, by destination and reason.', labelNames: ['listener', 'destination', 'reason'], registers });
    this.readsRetried = new Counter({ name: `${P}replica_reads_retried_total`, help: 'Statements a replica refused as writes (25006) before any row, run on the primary instead.', labelNames: ['listener'], registers });
    this.pins = new Counter({ name: `${P}sessions_pinned_total`, help: 'Split sessions that pinned themselves to the primary, by what pinned them.', labelNames: ['listener', 'pin'], registers });
    this.moves = new Counter({ name: `${P}sessions_moved_total`, help: 'Sessions that went on on a new primary after theirs went away, with no error to the client.', labelNames: ['listener'], registers });
    this.notMoved = new Counter({ name: `${P}sessions_not_moved_total`, help: 'Sessions on a primary that went away that could not move, by why (open-transaction, temp-object, no-secret, timeout, ...).', labelNames: ['listener', 'reason'], registers });
    this.moveWait = new Histogram({ name: `${P}session_move_wait_seconds`, help: 'From losing the old primary to the new link being up, per moved session.', labelNames: ['listener'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers });
    const classifiers = options.classifiers ?? (() => []);
    new Gauge({
      name: `${P}classifier_cache_hit_ratio`,
      help: 'Share of statements a split listener classified from its cache.',
      labelNames: ['listener'],
      registers,
      collect() {
        this.reset();
        for (const c of classifiers()) this.set({ listener: c.listener }, c.hitRatio);
      },
    });
    new Counter({
      name: `${P}classifier_parse_seconds_total`,
      help: 'Time a split listener spent parsing statements it had not cached.',
      labelNames: ['listener'],
      registers,
      collect() {
        // The classifier keeps the running sum; the counter shows it as it is at the scrape.
        this.reset();
        for (const c of classifiers()) this.inc({ listener: c.listener }, c.parseSeconds);
      },
    });

    const states = (): ClusterState[] => [...this.states.values()];
    new Gauge({
      name: `${P}topology_generation`,
      help: 'Generation of the latest cluster snapshot.',
      labelNames: ['cluster'],
      registers,
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
      collect() {
        this.reset();
        for (const h of health()) {
          for (const state of new Set([...WATCH_STATES, h.watch])) this.set({ cluster: h.scope, state }, state === h.watch ? 1 : 0);
        }
      },
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
    const cluster = change.next.scope;
    this.states.set(cluster, change.next);
    this.apply(cluster, this.timeline(cluster).observeState(change.previous, change.next, this.now()));
  }

  /** Per cluster: the open failover episode, else the last one (for the status page). */
  failoverEpisodes(): Record<string, FailoverEpisode | undefined> {
    return Object.fromEntries([...this.timelines].map(([cluster, t]) => [cluster, t.episode()]));
  }

  connectionAccepted(e: ProxyEvent<'connectionAccepted'>): void {
    this.accepted.inc({ listener: e.listener });
  }

  sessionStarted(e: ProxyEvent<'sessionStarted'>): void {
    const cluster = this.clusterOfListener(e.listener);
    if (cluster !== undefined) this.apply(cluster, this.timeline(cluster).sessionStarted(e.member, this.now()));
  }

  sessionEnded(e: ProxyEvent<'sessionEnded'>): void {
    this.sessionsEnded.inc({ listener: e.listener, ending: e.ending });
    this.bytes.inc({ listener: e.listener, direction: 'client_to_server' }, e.bytesIn);
    this.bytes.inc({ listener: e.listener, direction: 'server_to_client' }, e.bytesOut);
  }

  refused(e: ProxyEvent<'refused'>): void {
    this.refusedTotal.inc({ listener: e.listener, reason: e.kind });
  }

  // The held gauge is read from the sessions at scrape time.
  holdStarted(_e: ProxyEvent<'holdStarted'>): void {}

  holdEnded(e: ProxyEvent<'holdEnded'>): void {
    this.holdWait.observe({ listener: e.listener, outcome: e.outcome }, e.waitedMs / 1000);
  }

  fenced(e: ProxyEvent<'fenced'>): void {
    this.fencedTotal.inc({ listener: e.listener, member: e.member });
    const cluster = this.clusterOfListener(e.listener);
    if (cluster !== undefined) this.apply(cluster, this.timeline(cluster).sessionsFenced(e.member, this.now()));
  }

  cancel(e: ProxyEvent<'cancel'>): void {
    this.cancels.inc({ outcome: e.outcome });
  }

  unitRouted(e: ProxyEvent<'unitRouted'>): void {
    this.unitsRouted.inc({ listener: e.listener, destination: e.destination, reason: e.reason });
  }

  readRetried(e: ProxyEvent<'readRetried'>): void {
    this.readsRetried.inc({ listener: e.listener });
  }

  sessionMoved(e: ProxyEvent<'sessionMoved'>): void {
    this.moves.inc({ listener: e.listener });
    this.moveWait.observe({ listener: e.listener }, e.waitedMs / 1000);
  }

  sessionNotMoved(e: ProxyEvent<'sessionNotMoved'>): void {
    this.notMoved.inc({ listener: e.listener, reason: e.reason });
  }

  sessionPinned(e: ProxyEvent<'sessionPinned'>): void {
    this.pins.inc({ listener: e.listener, pin: e.pin });
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
