/**
 * The mixed workload of issue 14 and how its destinations are counted on the members. Pure:
 * the scripts, the SQL that reads the counters, and arithmetic on the readings.
 *
 * Each pgbench client is one autocommit session that picks, per transaction, the read script
 * (weight 9) or the write script (weight 1): 90% replica-safe point SELECTs on pgbench_accounts,
 * 10% UPDATEs of one row. Neither statement appears anywhere else in the bench (pgbench -S
 * selects `abalance` alone, TPC-B adds to it), and pg_stat_statements tracks only the bench
 * role's sessions (`ALTER ROLE ... SET pg_stat_statements.track = top`, `none` for everyone
 * else), so each member's `calls` of the two normalised texts count exactly the reads and the
 * writes that member ran for the workload.
 */

export const SPLIT_READ_SCRIPT = '\\set aid random(1, 100000 * :scale)\nSELECT aid, abalance FROM pgbench_accounts WHERE aid = :aid;\n';
export const SPLIT_WRITE_SCRIPT = '\\set aid random(1, 100000 * :scale)\n\\set delta random(-5000, 5000)\nUPDATE pgbench_accounts SET abalance = :delta WHERE aid = :aid;\n';
export const SPLIT_READ_WEIGHT = 9;
export const SPLIT_WRITE_WEIGHT = 1;
/** The two statements as pg_stat_statements normalises them (constants become $n). */
export const SPLIT_READ_STATEMENT = 'SELECT aid, abalance FROM pgbench_accounts WHERE aid = $1';
export const SPLIT_WRITE_STATEMENT = 'UPDATE pgbench_accounts SET abalance = $1 WHERE aid = $2';

/** The table of the read-your-writes checker: one row per run, written then read back. */
export const RYW_TABLE = 'public.bench_ryw';

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** One line `reads|writes`: the calls of the two statements on this member so far. */
export const MEMBER_COUNTERS_SQL =
  `SELECT coalesce(sum(calls) FILTER (WHERE query = ${literal(SPLIT_READ_STATEMENT)}), 0) || '|' || ` +
  `coalesce(sum(calls) FILTER (WHERE query = ${literal(SPLIT_WRITE_STATEMENT)}), 0) FROM pg_stat_statements`;

export interface StatementCalls {
  reads: number;
  writes: number;
}

export function parseMemberCounters(line: string): StatementCalls {
  const match = /^(\d+)\|(\d+)$/.exec(line.trim());
  if (!match) throw new Error(`unexpected pg_stat_statements reading "${line.trim().slice(0, 100)}"`);
  return { reads: Number(match[1]), writes: Number(match[2]) };
}

/**
 * The log_line_prefix the bench gives the members, so that every error line says its SQLSTATE:
 * `2026-12-01 11:08:20.731 UTC [31676] sqlstate=25006 ERROR:  cannot execute UPDATE in a read-only transaction`.
 */
export const LOG_LINE_PREFIX = '%m [%p] sqlstate=%e ';

/** ERROR (and FATAL, PANIC) lines of a stretch of a member's log, by SQLSTATE. */
export function serverErrorsBySqlstate(logText: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of logText.matchAll(/ sqlstate=([0-9A-Z]{5}) (?:ERROR|FATAL|PANIC): /g)) {
    const code = match[1] as string;
    counts[code] = (counts[code] ?? 0) + 1;
  }
  return counts;
}

/** One member's counters before a run, after it, and the errors its log gained meanwhile. */
export interface MemberWindow {
  member: string;
  role: 'primary' | 'replica';
  before: StatementCalls;
  after: StatementCalls;
  errors: Record<string, number>;
}

export interface MemberServed {
  member: string;
  role: 'primary' | 'replica';
  reads: number;
  writes: number;
  /** Error lines in its log during the run, by SQLSTATE. */
  errors: Record<string, number>;
}

/** Where the workload's statements ran during one run, from the members' own counters. */
export interface Served {
  members: MemberServed[];
  primaryReads: number;
  replicaReads: number;
  /** replicaReads / all reads; NaN when no read ran. */
  replicaShare: number;
  primaryWrites: number;
  /**
   * Write statements a replica was asked to run: its 25006 errors (a hot standby refuses every
   * write with it, so a write that reached a replica cannot leave any other trace there).
   */
  writesOnReplicas: number;
  /** Other error lines on the replicas, by SQLSTATE. */
  otherReplicaErrors: Record<string, number>;
}

export function servedDuring(windows: readonly MemberWindow[]): Served {
  const members = windows.map((w) => ({
    member: w.member,
    role: w.role,
    reads: w.after.reads - w.before.reads,
    writes: w.after.writes - w.before.writes,
    errors: w.errors,
  }));
  const sum = (pick: (m: MemberServed) => number, role: 'primary' | 'replica'): number => members.filter((m) => m.role === role).reduce((n, m) => n + pick(m), 0);
  const primaryReads = sum((m) => m.reads, 'primary');
  const replicaReads = sum((m) => m.reads, 'replica');
  const otherReplicaErrors: Record<string, number> = {};
  for (const m of members.filter((x) => x.role === 'replica')) {
    for (const [code, n] of Object.entries(m.errors)) if (code !== '25006') otherReplicaErrors[code] = (otherReplicaErrors[code] ?? 0) + n;
  }
  return {
    members,
    primaryReads,
    replicaReads,
    replicaShare: primaryReads + replicaReads === 0 ? Number.NaN : replicaReads / (primaryReads + replicaReads),
    primaryWrites: sum((m) => m.writes, 'primary'),
    writesOnReplicas: sum((m) => m.errors['25006'] ?? 0, 'replica'),
    otherReplicaErrors,
  };
}

/**
 * `patroni_router_statements_routed_total` of one listener from the router's /metrics text, as
 * `destination:reason` → units; and its `replica_reads_retried_total`.
 */
export function parseRoutedUnits(metricsText: string, listener: string): { routed: Record<string, number>; retried: number } {
  const routed: Record<string, number> = {};
  let retried = 0;
  for (const line of metricsText.split('\n')) {
    const match = /^patroni_router_(statements_routed_total|replica_reads_retried_total)\{([^}]*)\} ([0-9.e+]+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] as string).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels['listener'] !== listener) continue;
    const value = Number(match[3]);
    if (match[1] === 'replica_reads_retried_total') retried += value;
    else routed[`${labels['destination']}:${labels['reason']}`] = (routed[`${labels['destination']}:${labels['reason']}`] ?? 0) + value;
  }
  return { routed, retried };
}

/** after − before, per key (keys that did not move are left out). */
export function counterDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const d = value - (before[key] ?? 0);
    if (d !== 0) out[key] = d;
  }
  return out;
}
