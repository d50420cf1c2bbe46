import type { ClusterConfig, Member, SyncState } from './cluster-state.js';
import { parseMember } from './parse-member.js';
import { parseWalPosition } from './wal-position.js';

/** Everything Patroni's keys say about one cluster, before REST observations are folded in. */
export interface ParsedKeys {
  leader?: string;
  members: Member[];
  sync: SyncState;
  config: ClusterConfig;
  failover?: { leader?: string; candidate?: string; scheduledAt?: string };
  leaderOptime?: number;
  timelineHistory?: readonly unknown[];
  failsafeMembers?: readonly string[];
  initialize?: string;
  problems: string[];
}

/** Patroni's own defaults, used when `config` is absent or a field is missing/bad. */
export const DEFAULT_CONFIG: ClusterConfig = Object.freeze({
  ttl: 30,
  loopWait: 10,
  retryTimeout: 10,
  synchronousMode: false,
  synchronousModeStrict: false,
  failsafeMode: false,
  pause: false,
});

function describe(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function parseJsonObject(key: string, value: string, problems: string[]): Record<string, unknown> | undefined {
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch {
    problems.push(`${key}: not JSON: ${describe(value)}`);
    return undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    problems.push(`${key}: not a JSON object: ${describe(data)}`);
    return undefined;
  }
  return data as Record<string, unknown>;
}

function flag(key: string, field: string, value: unknown, problems: string[]): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && ['true', 'false', 'on', 'off'].includes(value.toLowerCase())) {
    return value.toLowerCase() === 'true' || value.toLowerCase() === 'on';
  }
  problems.push(`${key}: ${field} is not a boolean: ${describe(value)}`);
  return false;
}

function positiveNumber(key: string, field: string, value: unknown, problems: string[]): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n === 'number' && Number.isFinite(n) && n >= 0) return n;
  problems.push(`${key}: ${field} is not a number: ${describe(value)}`);
  return undefined;
}

export function parseConfig(value: string | undefined, problems: string[]): ClusterConfig {
  if (value === undefined) return DEFAULT_CONFIG;
  const d = parseJsonObject('config', value, problems);
  if (d === undefined) return DEFAULT_CONFIG;
  let synchronousMode: boolean | 'quorum' = false;
  if (d.synchronous_mode === 'quorum') synchronousMode = 'quorum';
  else synchronousMode = flag('config', 'synchronous_mode', d.synchronous_mode, problems);
  const config: ClusterConfig = {
    ttl: positiveNumber('config', 'ttl', d.ttl, problems) ?? DEFAULT_CONFIG.ttl,
    loopWait: positiveNumber('config', 'loop_wait', d.loop_wait, problems) ?? DEFAULT_CONFIG.loopWait,
    retryTimeout: positiveNumber('config', 'retry_timeout', d.retry_timeout, problems) ?? DEFAULT_CONFIG.retryTimeout,
    synchronousMode,
    synchronousModeStrict: flag('config', 'synchronous_mode_strict', d.synchronous_mode_strict, problems),
    failsafeMode: flag('config', 'failsafe_mode', d.failsafe_mode, problems),
    pause: flag('config', 'pause', d.pause, problems),
  };
  const maxLag = positiveNumber('config', 'maximum_lag_on_failover', d.maximum_lag_on_failover, problems);
  if (maxLag !== undefined) config.maximumLagOnFailover = maxLag;
  return Object.freeze(config);
}

/** `sync_standby` is ONE comma-separated string (or null); a list is tolerated. */
export function parseSync(value: string | undefined, problems: string[]): SyncState {
  if (value === undefined) return { standbys: [] };
  const d = parseJsonObject('sync', value, problems);
  if (d === undefined) return { standbys: [] };
  const sync: SyncState = { standbys: [] };
  if (typeof d.leader === 'string') sync.leader = d.leader;
  const raw = d.sync_standby;
  let names: string[] = [];
  if (typeof raw === 'string') names = raw.split(',');
  else if (Array.isArray(raw) && raw.every((n) => typeof n === 'string')) names = raw as string[];
  else if (raw !== null && raw !== undefined) problems.push(`sync: sync_standby is not a list of names: ${describe(raw)}`);
  const standbys = names.map((n) => n.trim()).filter((n) => n.length > 0);
  const quorum = d.quorum;
  if (quorum !== undefined && quorum !== null) {
    if (typeof quorum === 'number' && Number.isInteger(quorum) && quorum >= 0) sync.quorum = quorum;
    else problems.push(`sync: quorum is not a whole number: ${describe(quorum)}`);
  }
  return { ...sync, standbys: Object.freeze(standbys) };
}

function parseFailover(value: string | undefined, problems: string[]): ParsedKeys['failover'] {
  if (value === undefined) return undefined;
  const d = parseJsonObject('failover', value, problems);
  if (d === undefined) return undefined;
  const failover: NonNullable<ParsedKeys['failover']> = {};
  if (typeof d.leader === 'string') failover.leader = d.leader;
  if (typeof d.member === 'string') failover.candidate = d.member;
  if (typeof d.scheduled_at === 'string') failover.scheduledAt = d.scheduled_at;
  // `{}` is what Patroni leaves behind once a switchover is done: no request.
  return Object.keys(failover).length === 0 ? undefined : failover;
}

function parseOptime(value: string | undefined, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  const d = parseJsonObject('status', value, problems);
  if (d === undefined || d.optime === undefined) return undefined;
  const optime = parseWalPosition(d.optime);
  if (optime === undefined) problems.push(`status: optime is not a WAL position: ${describe(d.optime)}`);
  return optime;
}

function parseHistory(value: string | undefined, problems: string[]): readonly unknown[] | undefined {
  if (value === undefined) return undefined;
  try {
    const data: unknown = JSON.parse(value);
    if (Array.isArray(data)) return Object.freeze(data);
  } catch {
    // reported below
  }
  problems.push(`history: not a JSON list: ${describe(value)}`);
  return undefined;
}

function parseFailsafe(value: string | undefined, problems: string[]): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const d = parseJsonObject('failsafe', value, problems);
  return d === undefined ? undefined : Object.freeze(Object.keys(d).sort());
}

/**
 * Parse a cluster's keys, given relative to the scope prefix (`leader`, `members/pg0`, ...).
 * Never throws. Deeper paths (Citus groups `<group>/...`) and unknown keys are ignored.
 */
export function parseClusterKeys(keys: ReadonlyMap<string, string>): ParsedKeys {
  const problems: string[] = [];
  const members: Member[] = [];
  for (const [key, value] of keys) {
    const match = /^members\/([^/]+)$/.exec(key);
    if (match === null) continue;
    const parsed = parseMember(match[1]!, value);
    members.push(parsed.member);
    problems.push(...parsed.problems);
  }
  members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const parsed: ParsedKeys = {
    members,
    sync: parseSync(keys.get('sync'), problems),
    config: parseConfig(keys.get('config'), problems),
    problems,
  };
  const leader = keys.get('leader');
  if (leader !== undefined) {
    const name = leader.trim();
    if (name.length === 0) problems.push('leader: empty value');
    else parsed.leader = name;
  }
  const failover = parseFailover(keys.get('failover'), problems);
  if (failover !== undefined) parsed.failover = failover;
  const optime = parseOptime(keys.get('status'), problems);
  if (optime !== undefined) parsed.leaderOptime = optime;
  const history = parseHistory(keys.get('history'), problems);
  if (history !== undefined) parsed.timelineHistory = history;
  const failsafe = parseFailsafe(keys.get('failsafe'), problems);
  if (failsafe !== undefined) parsed.failsafeMembers = failsafe;
  const initialize = keys.get('initialize');
  if (initialize !== undefined) parsed.initialize = initialize;
  return parsed;
}
