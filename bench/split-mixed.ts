/**
 * The mixed workload of issue 14 on the bench's cluster: pgbench (90% reads, 10% writes, one
 * autocommit session per client) through each endpoint in turn, a read-your-writes checker
 * beside it through the same endpoint, and each member's own counters read before and after.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { credentials } from '../test/cluster/credentials.js';
import { waitFor } from '../test/cluster/wait-for.js';
import { runPgbench, type PgbenchTarget } from './pgbench-runner.js';
import { AUTH_ROLE, authRoleSql } from './pooled-setup.js';
import { UsageSampler } from './process-usage.js';
import type { SplitEndpoint, SplitRun } from './results.js';
import { rotatedOrder } from './rotation.js';
import { ReadYourWritesChecker } from './ryw-checker.js';
import {
  LOG_LINE_PREFIX,
  MEMBER_COUNTERS_SQL,
  RYW_TABLE,
  SPLIT_READ_SCRIPT,
  SPLIT_READ_WEIGHT,
  SPLIT_WRITE_SCRIPT,
  SPLIT_WRITE_WEIGHT,
  counterDelta,
  parseMemberCounters,
  parseRoutedUnits,
  servedDuring,
  serverErrorsBySqlstate,
  type MemberWindow,
  type StatementCalls,
} from './split-workload.js';

/** The role of the workload: `trust` on the members under the harness's mixed pg_hba, so pgpool and the router's replica links need no secret. */
export const SPLIT_USER = credentials.trust.user;
export const SPLIT_AUTH_ROLE = AUTH_ROLE;

/**
 * Patroni parameters the split part needs (set with the bench's one restart): pg_stat_statements
 * loaded but tracking nobody by default, and the SQLSTATE on every log line.
 */
export const SPLIT_PATRONI_PARAMETERS: Record<string, string> = {
  'postgresql.parameters.shared_preload_libraries': 'pg_stat_statements',
  'postgresql.parameters.pg_stat_statements.track': 'none',
  'postgresql.parameters.log_line_prefix': LOG_LINE_PREFIX,
};

export interface SplitCluster {
  sql(member: string, query: string): Promise<string>;
  members: ReadonlyArray<{ name: string; port: number; logFile: string }>;
}

/** What the bench's SHOW of each parameter must say once the restart took them. */
export async function splitParametersInForce(cluster: SplitCluster): Promise<true> {
  for (const m of cluster.members) {
    const [libraries, track, prefix] = await Promise.all([
      cluster.sql(m.name, 'SHOW shared_preload_libraries'),
      cluster.sql(m.name, 'SHOW pg_stat_statements.track'),
      cluster.sql(m.name, "SELECT '[' || current_setting('log_line_prefix') || ']'"),
    ]);
    if (libraries !== 'pg_stat_statements' || track !== 'none' || prefix !== `[${LOG_LINE_PREFIX}]`) {
      throw new Error(`${m.name}: shared_preload_libraries "${libraries}", pg_stat_statements.track "${track}", log_line_prefix ${prefix}`);
    }
  }
  return true;
}

/**
 * On the leader, after pgbench -i: the extension, tracking for the bench role only, its grants,
 * the checker's table, and the router's auth_query role (as `patroni-router auth-setup` prints
 * it, with a SCRAM verifier); then waits for every replica to have replayed all of it.
 */
export async function prepareSplitCluster(cluster: SplitCluster, leader: string): Promise<void> {
  const user = SPLIT_USER;
  await cluster.sql(leader, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await cluster.sql(leader, `ALTER ROLE ${user} SET pg_stat_statements.track = 'top'`);
  await cluster.sql(leader, `GRANT SELECT, UPDATE ON pgbench_accounts TO ${user}`);
  await cluster.sql(leader, `CREATE TABLE IF NOT EXISTS ${RYW_TABLE} (k text PRIMARY KEY, v bigint NOT NULL)`);
  await cluster.sql(leader, `GRANT SELECT, INSERT, UPDATE ON ${RYW_TABLE} TO ${user}`);
  for (const statement of authRoleSql()) await cluster.sql(leader, statement);
  for (const m of cluster.members.filter((x) => x.name !== leader)) {
    await waitFor(
      `${m.name} to replay the split bench's setup`,
      async () => {
        const seen = await cluster.sql(
          m.name,
          `SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements') || '|' || (to_regclass('${RYW_TABLE}') IS NOT NULL) || '|' || ` +
            `(SELECT count(*) FROM pg_proc WHERE proname = 'user_secret') || '|' || (SELECT count(*) FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = '${user}')`,
        );
        if (seen !== '1|true|1|1') throw new Error(`extension|table|auth function|role setting: ${seen}`);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  }
}

/** An endpoint of the mixed workload: where pgbench and the checker connect, and what to read beside. */
export interface SplitTarget {
  endpoint: SplitEndpoint;
  target: PgbenchTarget;
  proxyPid?: number;
  /** The router's /metrics, for the split listener's routing reasons. */
  metricsUrl?: string;
}

export interface SplitPlan {
  clients: readonly number[];
  seconds: number;
  repetitions: number;
  threads: number;
  scale: number;
  checkerIntervalMs: number;
  /** Where pgbench's scripts and per-transaction logs go. */
  dir: string;
}

/** Bytes `start` to `end` of a file: what a member logged during a run. */
function readRange(file: string, start: number, end: number): string {
  if (end <= start) return '';
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    const read = fs.readSync(fd, buffer, 0, buffer.length, start);
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return response.text();
}

/** Samples how far the replicas are behind, on the primary, while a run goes on. */
class ReplayLagSampler {
  maxBytes = 0;
  maxMs = 0;
  private readonly client: pg.Client;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(primary: { host: string; port: number }) {
    this.client = new pg.Client({ ...primary, user: credentials.superuser.user, database: 'postgres', application_name: 'bench-lag', connectionTimeoutMillis: 5000 });
    this.client.on('error', () => undefined);
  }

  async start(): Promise<void> {
    await this.client.connect();
    this.timer = setInterval(() => void this.sample(), 500);
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const row = (
        await this.client.query<{ bytes: number | null; ms: number | null }>(
          'SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn))::float8 AS bytes, max(extract(epoch FROM replay_lag) * 1000)::float8 AS ms FROM pg_stat_replication',
        )
      ).rows[0];
      this.maxBytes = Math.max(this.maxBytes, row?.bytes ?? 0);
      this.maxMs = Math.max(this.maxMs, row?.ms ?? 0);
    } catch {
      // a missed sample; the next one counts
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sample();
    await this.client.end().catch(() => undefined);
  }
}

interface MemberMark {
  member: string;
  calls: StatementCalls;
  logOffset: number;
}

async function markMembers(cluster: SplitCluster): Promise<MemberMark[]> {
  return Promise.all(
    cluster.members.map(async (m) => ({
      member: m.name,
      logOffset: fs.statSync(m.logFile).size,
      calls: parseMemberCounters(await cluster.sql(m.name, MEMBER_COUNTERS_SQL)),
    })),
  );
}

/**
 * Every (clients) cell once per endpoint per repetition, the endpoints in rotating order so the
 * noise of this shared machine falls on all of them alike.
 */
export async function measureSplit(
  endpoints: readonly SplitTarget[],
  plan: SplitPlan,
  cluster: SplitCluster,
  primary: string,
  progress: (line: string) => void,
): Promise<SplitRun[]> {
  const readFile = path.join(plan.dir, 'split-read.sql');
  const writeFile = path.join(plan.dir, 'split-write.sql');
  fs.writeFileSync(readFile, SPLIT_READ_SCRIPT);
  fs.writeFileSync(writeFile, SPLIT_WRITE_SCRIPT);
  const logDir = path.join(plan.dir, 'split-logs');
  fs.mkdirSync(logDir, { recursive: true });
  const primaryMember = cluster.members.find((m) => m.name === primary);
  if (!primaryMember) throw new Error(`no member ${primary}`);
  const replicaPorts = new Set(cluster.members.filter((m) => m.name !== primary).map((m) => String(m.port)));

  const runs: SplitRun[] = [];
  for (let repetition = 0; repetition < plan.repetitions; repetition++) {
    for (const [cell, clients] of plan.clients.entries()) {
      // Each repetition shifts every cell's order by one more, so over the repetitions each endpoint runs first, middle and last.
      for (const e of rotatedOrder(endpoints, repetition + cell)) {
        runs.push(await oneRun(e, clients, repetition));
        const r = runs[runs.length - 1] as SplitRun;
        progress(
          `  mixed c=${clients} ${e.endpoint.padEnd(14)} rep ${repetition} (load ${r.loadAverage.toFixed(2)}): ${r.tps.toFixed(0)} tps, p99 ${r.p99Ms.toFixed(3)} ms, ` +
            `reads on replicas ${(100 * r.served.replicaShare).toFixed(1)}% (${r.served.replicaReads}/${r.served.replicaReads + r.served.primaryReads}), ` +
            `writes on replicas ${r.served.writesOnReplicas}, checker ${r.checker.stale} stale of ${r.checker.iterations}, max lag ${r.maxReplayLagMs.toFixed(1)} ms` +
            (r.errors.length ? `  ERRORS: ${r.errors[0]}` : ''),
        );
      }
    }
  }
  return runs;

  async function oneRun(e: SplitTarget, clients: number, repetition: number): Promise<SplitRun> {
    const loadAverage = os.loadavg()[0] ?? Number.NaN;
    const before = await markMembers(cluster);
    const routedBefore = e.metricsUrl ? parseRoutedUnits(await fetchText(e.metricsUrl), 'split') : undefined;
    const lag = new ReplayLagSampler({ host: '127.0.0.1', port: primaryMember!.port });
    await lag.start();
    const checker = new ReadYourWritesChecker(e.target, `${e.endpoint}-c${clients}-r${repetition}`, plan.checkerIntervalMs);
    const errors: string[] = [];
    let checkerStarted = true;
    await checker.start().catch((error: unknown) => {
      checkerStarted = false;
      errors.push(`checker: ${(error as Error).message}`);
    });
    const sampler = e.proxyPid === undefined ? undefined : new UsageSampler(e.proxyPid);
    let pgbenchPart: Pick<SplitRun, 'tps' | 'latencyAverageMs' | 'p99Ms' | 'readP99Ms' | 'writeP99Ms' | 'transactions' | 'pgbenchReads' | 'pgbenchWrites' | 'failedTransactions'>;
    try {
      const result = await runPgbench(e.target, {
        args: ['-M', 'simple', '-s', String(plan.scale), '-f', `${readFile}@${SPLIT_READ_WEIGHT}`, '-f', `${writeFile}@${SPLIT_WRITE_WEIGHT}`],
        seconds: plan.seconds,
        clients,
        threads: plan.threads,
        logDir,
        label: `mixed-${clients}-${e.endpoint}-${repetition}`,
      });
      errors.push(...result.errors);
      pgbenchPart = {
        tps: result.tps,
        latencyAverageMs: result.latencyAverageMs,
        p99Ms: result.p99Ms ?? Number.NaN,
        readP99Ms: result.p99MsByScript?.[0] ?? Number.NaN,
        writeP99Ms: result.p99MsByScript?.[1] ?? Number.NaN,
        transactions: result.transactions,
        pgbenchReads: result.scripts?.[0]?.transactions ?? 0,
        pgbenchWrites: result.scripts?.[1]?.transactions ?? 0,
        failedTransactions: result.failedTransactions,
      };
    } catch (error) {
      errors.push((error as Error).message.slice(0, 500));
      pgbenchPart = {
        tps: Number.NaN,
        latencyAverageMs: Number.NaN,
        p99Ms: Number.NaN,
        readP99Ms: Number.NaN,
        writeP99Ms: Number.NaN,
        transactions: 0,
        pgbenchReads: 0,
        pgbenchWrites: 0,
        failedTransactions: 0,
      };
    }
    const usage = sampler?.stop();
    const outcome = checkerStarted ? await checker.stop() : { iterations: 0, stale: 0, readsByPort: {}, errors: [] };
    await lag.stop();
    // Statements pgbench left in flight as -T ended finish on the server a moment later.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await markMembers(cluster);
    const windows: MemberWindow[] = cluster.members.map((m) => {
      const b = before.find((x) => x.member === m.name) as MemberMark;
      const a = after.find((x) => x.member === m.name) as MemberMark;
      return {
        member: m.name,
        role: m.name === primary ? 'primary' : 'replica',
        before: b.calls,
        after: a.calls,
        errors: serverErrorsBySqlstate(readRange(m.logFile, b.logOffset, a.logOffset)),
      };
    });
    const routedAfter = e.metricsUrl ? parseRoutedUnits(await fetchText(e.metricsUrl), 'split') : undefined;
    const run: SplitRun = {
      endpoint: e.endpoint,
      clients,
      repetition,
      loadAverage,
      ...pgbenchPart,
      errors: [...errors, ...outcome.errors.map((x) => `checker: ${x}`)].slice(0, 10),
      served: servedDuring(windows),
      checker: { ...outcome, replicaReads: Object.entries(outcome.readsByPort).reduce((n, [port, count]) => n + (replicaPorts.has(port) ? count : 0), 0) },
      maxReplayLagBytes: lag.maxBytes,
      maxReplayLagMs: lag.maxMs,
    };
    if (routedBefore && routedAfter) {
      run.routed = counterDelta(routedBefore.routed, routedAfter.routed);
      run.retriedOnPrimary = routedAfter.retried - routedBefore.retried;
    }
    if (usage) run.proxy = usage;
    return run;
  }
}
