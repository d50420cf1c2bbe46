import { memberByName, type ClusterState, type Member, type MemberObservation } from './cluster-state.js';
import type { TopologySettings } from '../config/types.js';
import type { ParsedKeys } from './parse-cluster-keys.js';
import { decideDcsLoss } from './dcs-loss-policy.js';
import { describeChanges } from './describe-changes.js';

export interface StateInputs {
  scope: string;
  namespace: string;
  parsed: ParsedKeys;
  /** Latest REST `GET /patroni` answer per member name. */
  observations: ReadonlyMap<string, MemberObservation>;
  /**
   * ms when each member's key last changed, so a REST answer older than the member key does not
   * overrule it (a probe from before a promotion must not delay the new primary).
   */
  memberKeyChangedAt: ReadonlyMap<string, number>;
  /**
   * ms when the `leader` key last changed (new value or deleted). Only a REST answer asked after
   * this may promote the named member ahead of its member key; undefined turns that off.
   */
  leaderKeyChangedAt?: number;
  lastDcsContact: number;
  stale: boolean;
  now: number;
  /** An observation older than this is ignored (ms). */
  observationMaxAgeMs: number;
  dcsLossWrites: TopologySettings['dcsLossWrites'];
}

export interface BuiltState {
  state: ClusterState;
  /** Empty when nothing that matters changed; `state.generation` then equals the previous one. */
  changes: string[];
}

function freshObservation(inputs: StateInputs, name: string): MemberObservation | undefined {
  const obs = inputs.observations.get(name);
  if (obs === undefined || inputs.now - obs.at > inputs.observationMaxAgeMs) return undefined;
  return obs;
}

/** The REST API, when newer than the member key, says this member is not a running primary. */
function restContradictsPrimary(inputs: StateInputs, name: string): boolean {
  const obs = freshObservation(inputs, name);
  if (obs === undefined || !obs.reachable) return false;
  if ((obs.askedAt ?? obs.at) < (inputs.memberKeyChangedAt.get(name) ?? 0)) return false;
  if (obs.role !== undefined && obs.role !== 'primary') return true;
  return obs.state !== undefined && obs.state !== 'running';
}

/**
 * The leader's own REST API already reports what its member key will say on Patroni's next
 * loop: a running primary. Patroni builds `GET /patroni`'s role and xlog from
 * `pg_is_in_recovery()` in one live query (3.0.2 and 4.x alike), so role primary with an
 * `xlog.location` means postgres has left recovery. Only an answer to a question asked after
 * both the leader key and the member's key last changed counts: an older one may describe an
 * earlier term. Requiring the xlog shape also rules out Patroni's fallback answer (its cached
 * role, no xlog) when its query fails.
 */
function restShowsPromotion(inputs: StateInputs, m: Member): boolean {
  const since = inputs.leaderKeyChangedAt;
  if (since === undefined) return false;
  if (m.state !== 'running' || (m.role !== 'replica' && m.role !== 'promoted')) return false;
  const obs = freshObservation(inputs, m.name);
  if (obs === undefined || !obs.reachable) return false;
  const askedAt = obs.askedAt ?? obs.at;
  if (askedAt < since || askedAt < (inputs.memberKeyChangedAt.get(m.name) ?? Infinity)) return false;
  return obs.role === 'primary' && obs.state === 'running' && obs.xlogShape === 'primary';
}

/**
 * Already published as the writable primary under the same leader key, and nothing since says
 * otherwise: a member key that still lags behind (`replica` written before the promotion was
 * seen and rewritten unchanged, Patroni's transient `promoted`) is an older view, not a
 * demotion. What does take it back: the leader key moving, a state other than running,
 * `demoted`, a key that had moved on (to `promoted` or primary) and now says replica, and
 * (checked by the caller) a REST answer asked after the key changed that says anything but a
 * running primary.
 */
function stillPublished(previous: ClusterState | undefined, m: Member): boolean {
  if (previous?.writablePrimary !== m.name || previous.leader !== m.name) return false;
  if (m.state !== 'running') return false;
  if (m.role === 'primary' || m.role === 'promoted') return true;
  return m.role === 'replica' && memberByName(previous, m.name)?.role === 'replica';
}

function chooseWritablePrimary(inputs: StateInputs, members: readonly Member[], previous: ClusterState | undefined): string | undefined {
  const name = inputs.parsed.leader;
  if (name === undefined) return undefined;
  const m = members.find((x) => x.name === name);
  if (m === undefined || m.invalid !== undefined || m.host === undefined) return undefined;
  const keySaysPrimary = m.role === 'primary' && m.state === 'running';
  if (!keySaysPrimary && !restShowsPromotion(inputs, m) && !stillPublished(previous, m)) return undefined;
  if (restContradictsPrimary(inputs, name)) return undefined;
  const decision = decideDcsLoss({
    policy: inputs.dcsLossWrites,
    stale: inputs.stale,
    lastDcsContact: inputs.lastDcsContact,
    now: inputs.now,
    ttlSeconds: inputs.parsed.config.ttl,
    primaryObservation: freshObservation(inputs, name),
  });
  return decision.allowWrites ? name : undefined;
}

/** Bytes behind the leader: live REST positions when both sides are fresh, else DCS positions. */
function withLag(inputs: StateInputs, m: Member, leader: Member | undefined): Member {
  const observed = inputs.observations.get(m.name);
  const out: Member = observed === undefined ? { ...m } : { ...m, observed };
  if (leader === undefined || leader.name === m.name) return out;
  const leaderObs = freshObservation(inputs, leader.name);
  const obs = freshObservation(inputs, m.name);
  if (leaderObs?.reachable && obs?.reachable && leaderObs.walPosition !== undefined && obs.walPosition !== undefined && obs.role !== 'primary') {
    out.lagBytes = Math.max(0, leaderObs.walPosition - obs.walPosition);
    out.lagSource = 'rest';
    return out;
  }
  const references = [inputs.parsed.leaderOptime, leader.walPosition].filter((v): v is number => v !== undefined);
  const own = m.replayLsn ?? m.walPosition;
  if (references.length > 0 && own !== undefined) {
    out.lagBytes = Math.max(0, Math.max(...references) - own);
    out.lagSource = 'dcs';
  }
  return out;
}

/**
 * The whole picture from the parsed keys, the REST observations and the DCS contact status.
 * Pure: the same inputs give the same state; `generation` moves only when `describeChanges`
 * finds a difference from `previous`.
 */
export function buildState(inputs: StateInputs, previous: ClusterState | undefined): BuiltState {
  const { parsed } = inputs;
  const leaderMember = parsed.members.find((m) => m.name === parsed.leader);
  const members = parsed.members.map((m) => Object.freeze(withLag(inputs, m, leaderMember)));
  const state: ClusterState = {
    generation: previous === undefined ? 1 : previous.generation + 1,
    scope: inputs.scope,
    namespace: inputs.namespace,
    members: Object.freeze(members),
    sync: parsed.sync,
    config: parsed.config,
    switchoverPending: parsed.failover !== undefined,
    lastDcsContact: inputs.lastDcsContact,
    stale: inputs.stale,
    dcsLossPolicy: inputs.dcsLossWrites,
    problems: Object.freeze([...parsed.problems]),
  };
  if (parsed.leader !== undefined) state.leader = parsed.leader;
  if (parsed.failover !== undefined) state.failover = parsed.failover;
  if (parsed.leaderOptime !== undefined) state.leaderOptime = parsed.leaderOptime;
  if (parsed.timelineHistory !== undefined) state.timelineHistory = parsed.timelineHistory;
  if (parsed.failsafeMembers !== undefined) state.failsafeMembers = parsed.failsafeMembers;
  const writable = chooseWritablePrimary(inputs, members, previous);
  if (writable !== undefined) state.writablePrimary = writable;

  const changes = describeChanges(previous, state);
  if (previous !== undefined && changes.length === 0) state.generation = previous.generation;
  return { state: Object.freeze(state), changes };
}
