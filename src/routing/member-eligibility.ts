import { memberByName, type ClusterState, type Member, type MemberObservation } from '../topology/cluster-state.js';
import type { RouteKind } from '../config/types.js';
import type { Exclusion, RouteRequest } from './route-request.js';
import { formatBytes } from './byte-size.js';

/**
 * Which members a route takes, as Patroni's own REST checks decide (the `GET /<path>` that
 * answers 200 on exactly those members in steady state):
 * - `replicas`: running replicas; `membership` narrows them to the `sync` key's standbys
 *   (`sync`: synchronous mode, `quorum`: quorum mode) or to the others (`async`);
 * - `leader` / `standbyLeader`: the writable primary / the standby leader holding the leader key;
 * - `balanced`: `noloadbalance` keeps a replica out (Patroni's `/replica` check fails on it),
 *   never the leader: `/read-only` answers 200 on the primary whatever its tags.
 */
interface RouteShape {
  replicas: boolean;
  leader: boolean;
  standbyLeader: boolean;
  membership?: 'sync' | 'quorum' | 'async';
  balanced: boolean;
}

const SHAPES: Readonly<Record<Exclude<RouteKind, 'primary'>, RouteShape>> = {
  replica: { replicas: true, leader: false, standbyLeader: false, balanced: true },
  sync: { replicas: true, leader: false, standbyLeader: false, membership: 'sync', balanced: true },
  async: { replicas: true, leader: false, standbyLeader: false, membership: 'async', balanced: true },
  quorum: { replicas: true, leader: false, standbyLeader: false, membership: 'quorum', balanced: true },
  'read-only': { replicas: true, leader: true, standbyLeader: true, balanced: true },
  'read-only-sync': { replicas: true, leader: true, standbyLeader: true, membership: 'sync', balanced: true },
  'read-only-quorum': { replicas: true, leader: true, standbyLeader: true, membership: 'quorum', balanced: true },
  leader: { replicas: false, leader: true, standbyLeader: true, balanced: false },
  'standby-leader': { replicas: false, leader: false, standbyLeader: true, balanced: false },
  any: { replicas: true, leader: true, standbyLeader: true, balanced: true },
};

/**
 * One member against one route: eligible (undefined) or the first rule it fails.
 *
 * Checks run from "cannot possibly serve" to "policy says no", so the reason shown is the most
 * fundamental one: invalid key, no address, not running, wrong role, REST disagrees,
 * noloadbalance, tag filter, sync membership, upstream, lag.
 *
 * Decisions where Patroni's docs are silent:
 * - `primary` uses only `state.writablePrimary` (the topology layer sets it only when the leader
 *   key, the member key and the REST API all agree). Tag filters apply to it too, so a listener
 *   can say "writes only while the primary is in dc1". The leader of the read routes is the
 *   writable primary as well: a leader the router does not trust for writes serves no reads
 *   in its name either.
 * - Lag limits apply to replicas only. Unknown lag passes when no `maxLagBytes` is set and fails
 *   (reason `lag`) when one is: a limit the router cannot check is not a limit it may assume met.
 * - `any` takes the members `read-only` takes; it stays for configurations written before the
 *   Patroni 4 routes.
 * - `standby-leader` requires the leader key to name the member, as `primary` does: a member key
 *   outlives a lost leader lease.
 */
export function judgeMember(state: ClusterState, member: Member, route: RouteKind, request: Pick<RouteRequest, 'tags' | 'maxLagBytes' | 'lagHeld' | 'now'>): Exclusion | undefined {
  const problem = (reason: Exclusion['reason'], detail: string): Exclusion => ({ member: member.name, reason, detail });

  if (member.invalid !== undefined) return problem('invalid', `has an unreadable member key (${member.invalid})`);
  if (member.host === undefined || member.port === undefined) return problem('no-address', 'has no usable conn_url');
  if (member.state !== 'running') return problem('state', `is not running (state: ${member.state})`);

  const isWritablePrimary = state.writablePrimary === member.name;

  if (route === 'primary') {
    if (!isWritablePrimary) return notWritablePrimary(state, member, request.now);
    return tagMismatch(member, request.tags);
  }
  const shape = SHAPES[route];

  const role = roleProblem(state, member, shape);
  if (role !== undefined) return role;

  // The writable primary was already cross-checked against REST by the topology layer.
  if (!isWritablePrimary) {
    const expected = member.role === 'standby_leader' ? 'standby_leader' : 'replica';
    const seen = observationProblem(state, member, expected, request.now);
    if (seen !== undefined) return seen;
  }

  const isReplica = member.role === 'replica';
  if (shape.balanced && isReplica && member.tags.noloadbalance) return problem('noloadbalance', 'is tagged noloadbalance');

  const tag = tagMismatch(member, request.tags);
  if (tag !== undefined) return tag;

  if (isReplica && shape.membership !== undefined) {
    const membership = membershipProblem(state, member, shape.membership);
    if (membership !== undefined) return membership;
  }

  if (isReplica) {
    const upstream = upstreamProblem(state, member, new Set([member.name]), request.now);
    if (upstream !== undefined) return problem('upstream', upstream);
    const lag = lagProblem(member, request.maxLagBytes) ?? (request.maxLagBytes !== undefined ? request.lagHeld?.get(member.name) : undefined);
    if (lag !== undefined) return problem('lag', lag);
  }
  return undefined;
}

function membershipProblem(state: ClusterState, member: Member, membership: 'sync' | 'quorum' | 'async'): Exclusion | undefined {
  const problem = (reason: Exclusion['reason'], detail: string): Exclusion => ({ member: member.name, reason, detail });
  if (membership === 'async') {
    const listed = synchronousStandbys(state, 'sync').names.has(member.name) || synchronousStandbys(state, 'quorum').names.has(member.name);
    return listed ? problem('sync', state.config.synchronousMode === 'quorum' ? 'is a quorum standby' : 'is a synchronous standby') : undefined;
  }
  if (synchronousStandbys(state, membership).names.has(member.name)) return undefined;
  return problem('not-sync', membership === 'quorum' ? 'is not a quorum standby' : 'is not a synchronous standby');
}

/**
 * Which members the `sync` key says are synchronous now (`sync`: synchronous mode) or quorum
 * voters (`quorum`: Patroni 4's quorum mode), and why none are when it is empty. Under
 * `ANY n (m2, m3)` no single voter is sure to hold the last commit, so in quorum mode the
 * sync set is empty, as Patroni's own `/sync` check answers 503 everywhere.
 */
export function synchronousStandbys(state: ClusterState, kind: 'sync' | 'quorum' = 'sync'): { names: ReadonlySet<string>; whyNone?: string } {
  const none = (whyNone: string): { names: ReadonlySet<string>; whyNone: string } => ({ names: new Set(), whyNone });
  const quorumMode = state.config.synchronousMode === 'quorum';
  if (kind === 'sync' && quorumMode) return none('synchronous_mode is quorum: no single standby is sure to hold the last commit (the quorum route takes the voters)');
  if (kind === 'quorum' && !quorumMode)
    return none(state.config.synchronousMode ? 'synchronous_mode is on, not quorum (the sync route takes the sync standbys)' : 'synchronous_mode is off');
  // Only the current leader's sync key counts: one left by a previous leader describes standbys
  // of a server that no longer takes writes.
  if (state.sync.leader !== undefined && state.leader !== undefined && state.sync.leader !== state.leader) {
    return none(`sync key was written by previous leader ${state.sync.leader}`);
  }
  if (state.sync.standbys.length === 0) {
    if (!state.config.synchronousMode) return none('synchronous_mode is off');
    return none('sync key lists none');
  }
  return { names: new Set(state.sync.standbys) };
}

/**
 * A REST observation counts only while it is fresher than the DCS could be: member keys are
 * rewritten every `loop_wait`, so an older observation knows nothing the DCS does not.
 */
export function observationIsFresh(state: ClusterState, seen: MemberObservation, now: number | undefined): boolean {
  if (now === undefined) return true;
  const windowMs = Math.max(state.config.loopWait, 1) * 1000;
  return now - seen.at <= windowMs;
}

function roleProblem(state: ClusterState, member: Member, shape: RouteShape): Exclusion | undefined {
  const isWritablePrimary = state.writablePrimary === member.name;
  const problem = (reason: Exclusion['reason'], detail: string): Exclusion => ({ member: member.name, reason, detail });

  if (member.role === 'replica' && shape.replicas) {
    // Mid-promotion the DCS may still say replica while the leader key already names it.
    if (state.leader === member.name) return problem('role', roleDetail(state, member));
    return undefined;
  }
  if (member.role === 'primary') {
    if (isWritablePrimary && shape.leader) return undefined;
    if (!isWritablePrimary) return problem('not-leader', primaryClaim(state, member));
    return problem('role', roleDetail(state, member));
  }
  if (member.role === 'standby_leader' && shape.standbyLeader) {
    if (state.leader === member.name) return undefined;
    const holder = state.leader === undefined ? 'the leader key is absent' : `the leader key names ${state.leader}`;
    return problem('not-leader', `claims role standby_leader but ${holder}`);
  }
  return problem('role', roleDetail(state, member));
}

function roleDetail(state: ClusterState, member: Member): string {
  if (state.leader === member.name && (member.role === 'replica' || member.role === 'promoted')) {
    return `holds the leader key and is being promoted (role ${member.role})`;
  }
  switch (member.role) {
    case 'primary':
      return state.writablePrimary === member.name ? 'is the primary' : primaryClaim(state, member);
    case 'replica':
      return 'is a replica';
    case 'promoted':
      return 'is being promoted';
    case 'demoted':
      return 'is being demoted';
    case 'standby_leader':
      return 'is the standby leader';
    case 'uninitialized':
      return 'is not initialized yet';
    case 'unknown':
      return 'has an unknown role';
  }
}

function primaryClaim(state: ClusterState, member: Member): string {
  if (state.leader === member.name) {
    return state.stale ? 'holds the leader key but the topology is stale' : 'holds the leader key but is not confirmed writable';
  }
  if (state.leader === undefined) return 'claims role primary but the leader key is absent';
  return `claims role primary but the leader key names ${state.leader}`;
}

/** Why a running member with an address is not the writable primary. */
function notWritablePrimary(state: ClusterState, member: Member, now: number | undefined): Exclusion {
  const problem = (reason: Exclusion['reason'], detail: string): Exclusion => ({ member: member.name, reason, detail });
  if (member.role !== 'primary') return problem('role', roleDetail(state, member));
  if (state.leader === member.name && !state.stale) {
    const seen = observationProblem(state, member, 'primary', now);
    if (seen !== undefined) return seen;
  }
  return problem('not-leader', primaryClaim(state, member));
}

function observationProblem(state: ClusterState, member: Member, expectedRole: Member['role'], now: number | undefined): Exclusion | undefined {
  const seen = member.observed;
  if (seen === undefined || !observationIsFresh(state, seen, now)) return undefined;
  const problem = (reason: Exclusion['reason'], detail: string): Exclusion => ({ member: member.name, reason, detail });
  if (!seen.reachable) {
    const why = seen.error === undefined ? '' : ` (${seen.error})`;
    return problem('unreachable', `does not answer its REST API${why}`);
  }
  if (seen.role !== undefined && seen.role !== expectedRole) {
    return problem('role', `reports role ${seen.role} on its REST API`);
  }
  if (seen.state !== undefined && seen.state !== 'running') {
    return problem('state', `reports state ${seen.state} on its REST API`);
  }
  return undefined;
}

/** Like Patroni's `?tag_key=value`: every filter must equal the tag as written (booleans as true/false). */
function tagMismatch(member: Member, filters: Readonly<Record<string, string>>): Exclusion | undefined {
  for (const [key, wanted] of Object.entries(filters)) {
    const actual = member.tags.raw[key];
    if (actual === wanted) continue;
    const detail = actual === undefined ? `has no tag ${key} (wanted ${wanted})` : `has tag ${key}=${actual} (wanted ${wanted})`;
    return { member: member.name, reason: 'tag', detail };
  }
  return undefined;
}

/**
 * A cascading replica (`replicatefrom: X`) is only as fresh as X: it is a read target only while
 * X is running and usable (the writable primary, or a replica that itself passes this check).
 * Returns a predicate phrase, e.g. "replicates from pg1, which is not running (state: stopped)".
 */
function upstreamProblem(state: ClusterState, member: Member, visited: Set<string>, now: number | undefined): string | undefined {
  const name = member.tags.replicatefrom;
  if (name === undefined || name === member.name) return undefined;
  const via = `replicates from ${name}, which`;
  if (visited.has(name)) return `${via} is part of a replicatefrom loop`;
  const upstream = memberByName(state, name);
  if (upstream === undefined) return `${via} is not in the cluster`;
  if (upstream.invalid !== undefined) return `${via} has an unreadable member key`;
  if (upstream.state !== 'running') return `${via} is not running (state: ${upstream.state})`;
  if (state.writablePrimary === name) return undefined;
  if (upstream.role !== 'replica') return `${via} is neither a replica nor the writable primary (role ${upstream.role})`;
  const seen = upstream.observed;
  if (seen !== undefined && observationIsFresh(state, seen, now)) {
    if (!seen.reachable) return `${via} does not answer its REST API`;
    if (seen.role !== undefined && seen.role !== 'replica') return `${via} reports role ${seen.role} on its REST API`;
  }
  visited.add(name);
  const further = upstreamProblem(state, upstream, visited, now);
  return further === undefined ? undefined : `${via} ${further}`;
}

function lagProblem(member: Member, maxLagBytes: number | undefined): string | undefined {
  if (maxLagBytes === undefined) return undefined;
  const max = formatBytes(maxLagBytes);
  if (member.lagBytes === undefined) return `has unknown lag (max ${max})`;
  if (member.lagBytes > maxLagBytes) return `lags ${formatBytes(member.lagBytes)} (max ${max})`;
  return undefined;
}
