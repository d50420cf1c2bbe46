/**
 * Tiny builders for ClusterState snapshots in routing tests. `batman()` has the shape of the
 * recorded fixture cluster (fixtures/patroni-3.0.2): pg0 primary, pg1 sync replica in dc1,
 * pg2 replica tagged nofailover, nosync, replicatefrom pg1, datacenter dc2.
 */
import type { ClusterState, Member, MemberTags } from '../../../src/topology/cluster-state.js';
import type { RouteKind } from '../../../src/config/types.js';
import type { BalanceMemory, RouteRequest } from '../../../src/routing/route-request.js';

export const MB = 1024 * 1024;

/** Effective tags from what Patroni would write in the member key. */
export function tags(raw: Record<string, string | boolean> = {}): MemberTags {
  const text: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) text[k] = String(v);
  const result: MemberTags = {
    nofailover: raw['nofailover'] === true,
    noloadbalance: raw['noloadbalance'] === true,
    nosync: raw['nosync'] === true,
    nostream: raw['nostream'] === true,
    raw: text,
  };
  if (typeof raw['replicatefrom'] === 'string') result.replicatefrom = raw['replicatefrom'];
  return result;
}

let nextPort = 5433;

export function member(name: string, overrides: Partial<Member> = {}): Member {
  return {
    name,
    host: '127.0.0.1',
    port: nextPort++,
    role: 'replica',
    state: 'running',
    tags: tags(),
    lagBytes: 0,
    lagSource: 'dcs',
    ...overrides,
  };
}

export function cluster(members: Member[], overrides: Partial<ClusterState> = {}): ClusterState {
  return {
    generation: 1,
    scope: 'batman',
    namespace: '/service/',
    members,
    sync: { standbys: [] },
    config: {
      ttl: 30,
      loopWait: 10,
      synchronousMode: false,
      synchronousModeStrict: false,
      failsafeMode: false,
      pause: false,
    },
    switchoverPending: false,
    lastDcsContact: 1_000_000,
    stale: false,
    problems: [],
    ...overrides,
  };
}

/** The fixture cluster, healthy: leader pg0, sync standby pg1, cascading pg2. */
export function batman(overrides: Partial<ClusterState> = {}): ClusterState {
  return cluster(
    [
      member('pg0', { port: 5433, role: 'primary', lagBytes: undefined, lagSource: undefined }),
      member('pg1', { port: 5434, tags: tags({ datacenter: 'dc1' }) }),
      member('pg2', {
        port: 5435,
        tags: tags({ nofailover: true, nosync: true, replicatefrom: 'pg1', datacenter: 'dc2' }),
      }),
    ],
    {
      leader: 'pg0',
      writablePrimary: 'pg0',
      sync: { leader: 'pg0', standbys: ['pg1'] },
      config: {
        ttl: 30,
        loopWait: 10,
        synchronousMode: true,
        synchronousModeStrict: false,
        failsafeMode: false,
        pause: false,
      },
      ...overrides,
    },
  );
}

/** A copy of `state` with one member changed (and the generation bumped). */
export function withMember(state: ClusterState, name: string, patch: Partial<Member>): ClusterState {
  if (!state.members.some((m) => m.name === name)) throw new Error(`no member ${name} in test state`);
  return {
    ...state,
    generation: state.generation + 1,
    members: state.members.map((m) => (m.name === name ? { ...m, ...patch } : m)),
  };
}

export function withoutMember(state: ClusterState, name: string): ClusterState {
  return { ...state, generation: state.generation + 1, members: state.members.filter((m) => m.name !== name) };
}

export function request(route: RouteKind, overrides: Partial<RouteRequest> = {}): RouteRequest {
  return { route, tags: {}, balance: 'round-robin', ...overrides };
}

export function memory(overrides: Partial<BalanceMemory> = {}): BalanceMemory {
  return { nextIndex: 0, sessionsByMember: new Map(), random: () => 0, ...overrides };
}

export function names(members: readonly { name: string }[]): string[] {
  return members.map((m) => m.name);
}
