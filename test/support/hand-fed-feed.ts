/** Topology a test decides: a ClusterFeed it pushes snapshots into, and a source it feeds events. */
import type { ClusterFeed } from '../../src/topology/cluster-feed.js';
import type { ClusterState, Member, StateListener } from '../../src/topology/cluster-state.js';
import type { TopologySink, TopologySource } from '../../src/topology/topology-source.js';

/** A ClusterFeed the test pushes snapshots into. */
export class HandFedFeed implements ClusterFeed {
  private state: ClusterState | undefined;
  private readonly listeners = new Set<StateListener>();
  /** What sessions doubted (ClusterFeed.doubt), in order. */
  readonly doubts: Array<{ member: string; why: string }> = [];
  constructor(readonly scope: string) {}
  doubt(member: string, why: string): void {
    this.doubts.push({ member, why });
  }
  current(): ClusterState | undefined {
    return this.state;
  }
  subscribe(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  push(next: ClusterState): void {
    const previous = this.state;
    this.state = next;
    for (const l of [...this.listeners]) l({ previous, next, changes: [] });
  }
}

/** A DCS source the test feeds by hand (sink.update / sink.status). */
export class HandFedSource implements TopologySource {
  sink: TopologySink | undefined;
  start(sink: TopologySink): void {
    this.sink = sink;
  }
  async stop(): Promise<void> {}
}

export interface MemberAddress {
  name: string;
  host: string;
  port: number;
  apiUrl?: string;
}

let generation = 0;

/**
 * A snapshot of running members in which `primary` is what the router believes writable
 * (undefined: an election, no primary at all).
 */
export function clusterStateOf(scope: string, members: readonly MemberAddress[], primary: string | undefined, over: Partial<ClusterState> = {}): ClusterState {
  const all: Member[] = members.map((m) => ({
    name: m.name,
    host: m.host,
    port: m.port,
    ...(m.apiUrl !== undefined ? { apiUrl: m.apiUrl } : {}),
    role: m.name === primary ? 'primary' : 'replica',
    state: 'running',
    tags: { nofailover: false, noloadbalance: false, nosync: false, nostream: false, raw: {} },
  }));
  return {
    generation: ++generation,
    scope,
    namespace: '/service/',
    members: all,
    ...(primary !== undefined ? { leader: primary, writablePrimary: primary } : {}),
    sync: { standbys: [] },
    config: { ttl: 20, loopWait: 2, synchronousMode: false, synchronousModeStrict: false, failsafeMode: false, pause: false },
    switchoverPending: false,
    lastDcsContact: Date.now(),
    stale: false,
    problems: [],
    ...over,
  };
}
