import type { Member, MemberRole } from './cluster-state.js';
import { parseTags } from './parse-tags.js';
import { parseWalPosition } from './wal-position.js';

const ROLES: Readonly<Record<string, MemberRole>> = {
  master: 'primary',
  primary: 'primary',
  replica: 'replica',
  standby_leader: 'standby_leader',
  promoted: 'promoted',
  demoted: 'demoted',
  uninitialized: 'uninitialized',
};

/** Patroni's role word (3.x `master`, 4.x `primary`) in the router's vocabulary. */
export function parseRole(value: unknown): MemberRole | undefined {
  return typeof value === 'string' ? ROLES[value] : undefined;
}

export interface ConnAddress {
  host: string;
  port: number;
}

/** `postgres://host:port/dbname` → host and port; undefined when it is not such a URL. */
export function parseConnUrl(value: unknown): ConnAddress | undefined {
  if (typeof value !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host.length === 0) return undefined;
  const port = url.port === '' ? 5432 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export interface ParsedMember {
  member: Member;
  /** Prefixed with the member's key; logged and exposed in ClusterState.problems. */
  problems: string[];
}

/**
 * One `members/<name>` value. Never throws: anything malformed is a problem, and a member
 * with a problem carries `invalid` so routing never picks it; other members are unaffected.
 */
export function parseMember(name: string, value: string): ParsedMember {
  const key = `members/${name}`;
  const problems: string[] = [];
  const base: Member = {
    name,
    role: 'unknown',
    state: 'unknown',
    tags: parseTags(undefined).tags,
  };
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch {
    const problem = `${key}: not JSON: ${describe(value)}`;
    return { member: { ...base, invalid: problem }, problems: [problem] };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    const problem = `${key}: not a JSON object: ${describe(data)}`;
    return { member: { ...base, invalid: problem }, problems: [problem] };
  }
  const d = data as Record<string, unknown>;
  const member: Member = { ...base };

  const address = parseConnUrl(d.conn_url);
  if (address === undefined) problems.push(`${key}: conn_url is not postgres://host:port/...: ${describe(d.conn_url)}`);
  else {
    member.host = address.host;
    member.port = address.port;
  }

  if (d.api_url !== undefined) {
    if (typeof d.api_url === 'string' && /^https?:\/\//.test(d.api_url)) member.apiUrl = d.api_url;
    else problems.push(`${key}: api_url is not an http(s) URL: ${describe(d.api_url)}`);
  }

  const role = parseRole(d.role);
  if (role === undefined) problems.push(`${key}: unknown role: ${describe(d.role)}`);
  else member.role = role;

  if (typeof d.state === 'string') member.state = d.state;
  else problems.push(`${key}: state is not a string: ${describe(d.state)}`);
  if (typeof d.replication_state === 'string') member.replicationState = d.replication_state;

  if (d.timeline !== undefined && d.timeline !== null) {
    if (typeof d.timeline === 'number' && Number.isInteger(d.timeline) && d.timeline > 0) member.timeline = d.timeline;
    else problems.push(`${key}: timeline is not a positive integer: ${describe(d.timeline)}`);
  }

  const positions: Array<[string, 'walPosition' | 'receiveLsn' | 'replayLsn']> = [
    ['xlog_location', 'walPosition'],
    ['receive_lsn', 'receiveLsn'],
    ['replay_lsn', 'replayLsn'],
  ];
  for (const [field, target] of positions) {
    const raw = d[field];
    if (raw === undefined || raw === null) continue;
    const position = parseWalPosition(raw);
    if (position === undefined) problems.push(`${key}: ${field} is not a WAL position: ${describe(raw)}`);
    else member[target] = position;
  }

  const tags = parseTags(d.tags);
  member.tags = tags.tags;
  for (const p of tags.problems) problems.push(`${key}: ${p}`);

  if (d.pending_restart !== undefined) member.pendingRestart = d.pending_restart === true;
  if (d.scheduled_restart !== undefined && d.scheduled_restart !== null) {
    const schedule = typeof d.scheduled_restart === 'object' ? (d.scheduled_restart as { schedule?: unknown }).schedule : undefined;
    if (typeof schedule === 'string' && !Number.isNaN(Date.parse(schedule))) member.scheduledRestartAt = schedule;
    else problems.push(`${key}: scheduled_restart has no valid schedule: ${describe(d.scheduled_restart)}`);
  }
  if (typeof d.version === 'string') member.version = d.version;

  if (problems.length > 0) member.invalid = problems.join('; ');
  return { member, problems };
}
