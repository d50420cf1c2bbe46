import type { Member, MemberObservation } from './cluster-state.js';
import { DEFAULT_CONFIG, type ParsedKeys } from './parse-cluster-keys.js';
import { parseMember, parseRole } from './parse-member.js';
import { parseWalPosition } from './wal-position.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A member's own `GET /patroni` answer as an observation. Primary: `xlog.location`;
 * replica: `xlog.replayed_location` (what a reader sees), `received_location`, `paused`.
 */
export function parsePatroniStatus(body: unknown, at: number): MemberObservation {
  if (!isObject(body)) return { at, reachable: false, error: 'GET /patroni: not a JSON object' };
  const obs: MemberObservation = { at, reachable: true };
  const role = parseRole(body.role);
  if (role !== undefined) obs.role = role;
  else if (body.role !== undefined) obs.role = 'unknown';
  if (typeof body.state === 'string') obs.state = body.state;
  if (typeof body.timeline === 'number') obs.timeline = body.timeline;
  const xlog = body.xlog;
  if (isObject(xlog)) {
    const location = parseWalPosition(xlog.location);
    const replayed = parseWalPosition(xlog.replayed_location);
    const received = parseWalPosition(xlog.received_location);
    const position = location ?? replayed;
    if (position !== undefined) obs.walPosition = position;
    if (received !== undefined) obs.receivedPosition = received;
    if (typeof xlog.paused === 'boolean') obs.replayPaused = xlog.paused;
  }
  return obs;
}

/** `GET /cluster` member roles: who holds the leader key, who is sync. */
const CLUSTER_ROLES: Readonly<Record<string, string>> = {
  leader: 'master',
  standby_leader: 'standby_leader',
  sync_standby: 'replica',
  quorum_standby: 'replica',
  replica: 'replica',
};

/** What `GET /cluster` reports as a replica's state once it runs (Patroni's replication_state). */
const REPLICATION_STATES: ReadonlySet<string> = new Set(['streaming', 'in archive recovery']);

function connUrl(host: unknown, port: unknown): string {
  const h = typeof host === 'string' && host.includes(':') ? `[${host}]` : String(host);
  return `postgres://${h}:${String(port)}/postgres`;
}

/**
 * A Patroni `GET /cluster` answer as parsed keys, for the REST-only mode: the `leader` role
 * becomes the leader (and role primary), `sync_standby`/`quorum_standby` the sync list, `lag`
 * the member's lag. Members are checked by the same parser as DCS member keys.
 */
export function parseClusterView(body: unknown): ParsedKeys {
  const problems: string[] = [];
  const parsed: ParsedKeys = { members: [], sync: { standbys: [] }, config: DEFAULT_CONFIG, problems };
  if (!isObject(body) || !Array.isArray(body.members)) {
    problems.push('GET /cluster: no members list');
    return parsed;
  }
  const standbys: string[] = [];
  const members: Member[] = [];
  for (const entry of body.members as unknown[]) {
    if (!isObject(entry) || typeof entry.name !== 'string') {
      problems.push(`GET /cluster: member entry without a name: ${JSON.stringify(entry)?.slice(0, 80)}`);
      continue;
    }
    const restRole = typeof entry.role === 'string' ? entry.role : '';
    // Since 3.0.4 a replica's state here is its replication state; the member itself runs.
    const replicationState = restRole !== 'leader' && typeof entry.state === 'string' && REPLICATION_STATES.has(entry.state) ? entry.state : undefined;
    const value = JSON.stringify({
      conn_url: connUrl(entry.host, entry.port),
      api_url: entry.api_url,
      state: replicationState === undefined ? entry.state : 'running',
      replication_state: replicationState,
      role: CLUSTER_ROLES[restRole] ?? restRole,
      timeline: entry.timeline,
      tags: entry.tags,
      pending_restart: entry.pending_restart,
    });
    const { member, problems: memberProblems } = parseMember(entry.name, value);
    problems.push(...memberProblems);
    if (typeof entry.lag === 'number' && entry.lag >= 0) {
      member.lagBytes = entry.lag;
      member.lagSource = 'rest';
    }
    members.push(member);
    if (restRole === 'leader' || restRole === 'standby_leader') parsed.leader = entry.name;
    if (restRole === 'sync_standby' || restRole === 'quorum_standby') standbys.push(entry.name);
  }
  members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  parsed.members = members;
  parsed.sync = { ...(parsed.leader === undefined ? {} : { leader: parsed.leader }), standbys };
  const pause = body.pause === true;
  parsed.config = { ...DEFAULT_CONFIG, pause, synchronousMode: standbys.length > 0 };
  if (isObject(body.scheduled_switchover)) {
    const s = body.scheduled_switchover;
    parsed.failover = {
      ...(typeof s.from === 'string' ? { leader: s.from } : {}),
      ...(typeof s.to === 'string' ? { candidate: s.to } : {}),
      ...(typeof s.at === 'string' ? { scheduledAt: s.at } : {}),
    };
  }
  return parsed;
}
