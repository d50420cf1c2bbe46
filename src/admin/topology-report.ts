import type { ListenerConfig, RouteKind } from '../config/types.js';
import type { FailoverEpisode } from '../observe/failover-timeline.js';
import type { ListenerSessions, ListenerStatus } from '../proxy/proxy-server.js';
import { explainListener, type ListenerExplanation } from '../routing/choose-backends.js';
import type { RouteRequest } from '../routing/route-request.js';
import type { ClusterState } from '../topology/cluster-state.js';
import type { DcsHealth, WorkerStatus } from './admin-context.js';

export interface ClusterReport {
  scope: string;
  namespace: string;
  /** undefined until the router has read the DCS once. */
  state?: ClusterState;
  dcs?: DcsHealth;
  /** The open switchover/failover, else the last one seen. */
  failover?: FailoverEpisode;
  /** Open sessions per member, then per listener. */
  sessionsByMember: Record<string, Record<string, number>>;
}

export interface ListenerReport {
  name: string;
  cluster: string;
  route: RouteKind;
  host: string;
  /** The bound port; the configured one when not bound. */
  port: number;
  accepting: boolean;
  sessions: { total: number; held: number; byMember: Record<string, number> };
  /** A split listener: units routed by destination, why units went to the primary, replica retries, pinned sessions. */
  split?: NonNullable<ListenerSessions['split']>;
  request: Omit<RouteRequest, 'now'>;
  /** Members a new connection may use now: the route's, else the fallback's. */
  wouldUse: string[];
  /** The route that `wouldUse` comes from. */
  routeUsed?: RouteKind;
  explanation?: ListenerExplanation;
  /** Why there is no explanation (e.g. the topology is not read yet). */
  note?: string;
}

export interface TopologyReport {
  generatedAt: number;
  ready: boolean;
  clusters: ClusterReport[];
  listeners: ListenerReport[];
  /** With `workers`: each worker process, its state and sessions (the counts above are their sum). */
  workers?: WorkerStatus[];
}

export interface TopologyInputs {
  now: number;
  ready: boolean;
  clusters: ReadonlyArray<{ scope: string; namespace: string }>;
  listenerConfigs: readonly ListenerConfig[];
  states: ReadonlyMap<string, ClusterState | undefined>;
  dcs: readonly DcsHealth[];
  listeners: readonly ListenerStatus[];
  sessions: readonly ListenerSessions[];
  failovers: Readonly<Record<string, FailoverEpisode | undefined>>;
  workers?: readonly WorkerStatus[];
}

/** The listener's own routing request, as the proxy builds it for a connection without override. */
export function listenerRequest(config: ListenerConfig): Omit<RouteRequest, 'now'> {
  return {
    route: config.route,
    tags: config.tags,
    ...(config.maxLagBytes !== undefined ? { maxLagBytes: config.maxLagBytes } : {}),
    ...(config.fallback !== undefined ? { fallback: config.fallback } : {}),
    balance: config.balance,
  };
}

/** What /topology answers: each cluster's snapshot, and per listener where a new connection would go and why not elsewhere. */
export function topologyReport(inputs: TopologyInputs): TopologyReport {
  const liveSessions = inputs.sessions.filter((s) => !s.retired);
  const clusters: ClusterReport[] = inputs.clusters.map((c) => {
    const sessionsByMember: Record<string, Record<string, number>> = {};
    for (const s of inputs.sessions) {
      if (s.cluster !== c.scope) continue;
      for (const [member, n] of Object.entries(s.byMember)) {
        const perListener = (sessionsByMember[member] ??= {});
        perListener[s.listener] = (perListener[s.listener] ?? 0) + n;
      }
    }
    const report: ClusterReport = { scope: c.scope, namespace: c.namespace, sessionsByMember };
    const state = inputs.states.get(c.scope);
    if (state !== undefined) report.state = state;
    const dcs = inputs.dcs.find((d) => d.scope === c.scope);
    if (dcs !== undefined) report.dcs = dcs;
    const failover = inputs.failovers[c.scope];
    if (failover !== undefined) report.failover = failover;
    return report;
  });

  const listeners = inputs.listenerConfigs.map((config): ListenerReport => {
    const status = inputs.listeners.find((l) => l.name === config.name && !l.retired);
    const sessions = liveSessions.find((s) => s.listener === config.name);
    const request = listenerRequest(config);
    const report: ListenerReport = {
      name: config.name,
      cluster: config.cluster,
      route: config.route,
      host: config.host,
      port: status?.port ?? config.port,
      accepting: status?.accepting ?? false,
      sessions: { total: sessions?.total ?? 0, held: sessions?.held ?? 0, byMember: sessions?.byMember ?? {} },
      request,
      wouldUse: [],
      ...(sessions?.split !== undefined ? { split: sessions.split } : {}),
    };
    const state = inputs.states.get(config.cluster);
    if (state === undefined) {
      report.note = inputs.states.has(config.cluster) ? `cluster ${config.cluster}: topology not read yet` : `cluster ${config.cluster} is not followed`;
      return report;
    }
    // What the listener's lag memory holds back counts too: the page shows what a new connection gets.
    const lagHeld = sessions?.lagHeld === undefined ? {} : { lagHeld: new Map(Object.entries(sessions.lagHeld)) };
    const explanation = explainListener(state, { ...request, ...lagHeld, now: inputs.now });
    report.explanation = explanation;
    if (explanation.eligible.length > 0) {
      report.wouldUse = explanation.eligible;
      report.routeUsed = explanation.route;
    } else if (explanation.fallback !== undefined && explanation.fallback.eligible.length > 0) {
      report.wouldUse = explanation.fallback.eligible;
      report.routeUsed = explanation.fallback.route;
    }
    return report;
  });

  return { generatedAt: inputs.now, ready: inputs.ready, clusters, listeners, ...(inputs.workers !== undefined ? { workers: [...inputs.workers] } : {}) };
}
