import type { CheckerOutcome } from './ryw-checker.js';
import type { Served } from './split-workload.js';
import type { WriteOutage } from './write-attempts.js';

/** The shape of bench/results/<date>.json. */

/**
 * Where pgbench connects: the leader itself, HAProxy, the 7-line Node pipe proxy (the floor for
 * any Node relay), the router with one worker, and the router with `workers` as asked (auto),
 * the last only when the router accepts that setting.
 */
export type Endpoint = 'direct' | 'haproxy' | 'bare-pipe' | 'router' | 'router-workers';
export const ENDPOINTS: readonly Endpoint[] = ['direct', 'haproxy', 'bare-pipe', 'router', 'router-workers'];
/** The endpoints that are a proxy process of their own, whose CPU and memory are read. */
export const PROXIES: readonly Exclude<Endpoint, 'direct'>[] = ['haproxy', 'bare-pipe', 'router', 'router-workers'];

/** A writer during a switchover/crash: the proxies, and the oracle that tries every member itself. */
export type Writer = 'oracle' | 'haproxy' | 'router';
export const WRITERS: readonly Writer[] = ['oracle', 'haproxy', 'router'];

export type Workload = 'select-simple' | 'select-prepared' | 'tpcb';

export interface ProxyUsage {
  peakRssKb: number;
  cpuSeconds: number;
  /** Apart, since a relay's own work is user time and the kernel's send/recv system time (older results lack them). */
  userSeconds?: number;
  systemSeconds?: number;
  /** Processes summed (a proxy with workers). */
  processes?: number;
}

export interface ThroughputRun {
  workload: Workload;
  clients: number;
  endpoint: Endpoint;
  repetition: number;
  tps: number;
  latencyAverageMs: number;
  p99Ms: number;
  transactions: number;
  failedTransactions: number;
  errors: string[];
  /** The proxy process's usage during this run (none for direct). */
  proxy?: ProxyUsage;
}

export interface ChurnRun {
  endpoint: Endpoint;
  repetition: number;
  clients: number;
  /** pgbench -C tps: each transaction is a new connection. */
  connectionsPerSecond: number;
  averageConnectionMs: number;
  errors: string[];
}

/** The proxies a pooled writer runs through in the failover rounds. */
export type PoolProxy = 'haproxy' | 'router';
export const POOL_PROXIES: readonly PoolProxy[] = ['haproxy', 'router'];

/** What the router's /metrics said about the pool's sessions over one round (its primary listener). */
export interface SessionMoves {
  /** patroni_router_sessions on the listener just before the event. */
  sessionsAtEvent: number;
  /** patroni_router_sessions_moved_total, after the round minus before the event. */
  moved: number;
  /** patroni_router_sessions_not_moved_total by reason, the same delta (reasons that did not move left out). */
  notMoved: Record<string, number>;
  /** The mean of patroni_router_session_move_wait_seconds over the round's moves, in ms. */
  moveWaitMeanMs: number;
}

/** One pooled writer (pool-writer.ts) over one round: what its requests saw. */
export interface PoolOutcome {
  /** Connections the pool held (all open before the round's writes began). */
  size: number;
  /** Connections it opened in the round to replace ones that failed or were closed under it (idle ones too). */
  reopened: number;
  attempts: number;
  successes: number;
  /** Failed requests (a failed INSERT, or a failed login when the pool replaced a connection). */
  errors: number;
  errorsByCode: Record<string, number>;
  /** By who caused them (test/support/client-error-cause.ts). */
  errorsByCause: Record<string, number>;
  /** One message per code and per cause. */
  sampleMessages: Record<string, string>;
  /**
   * Errors of requests sent on sessions idle at the event: after a crash, sent once the SIGKILL
   * had landed (so not in flight when the member died); in a switchover, every error.
   */
  idleErrors: number;
  idleErrorsByCode: Record<string, number>;
  /** Errors of requests sent more than LATE_AFTER_MS (2 s) after the event, however late the proxy learnt of it. */
  lateErrors: number;
  /** When the first and the last failed request was sent, ms from the event. */
  firstErrorSentMs: number;
  lastErrorSentMs: number;
  /** The longest any request waited, from asking the pool to the answer (ok or error), and when it was sent (ms from the event). */
  longestWaitMs: number;
  longestWaitSentMs: number;
  /** The longest time without a successful write by any of the pool's connections (write-attempts.ts's gap), and its ends in ms from the event. */
  longestGapMs: number;
  gapFromMs: number;
  gapToMs: number;
  recovered: boolean;
  /** Acknowledged INSERTs missing afterwards, and request numbers present more than once. */
  lostAcknowledged: number;
  writtenTwice: number;
  /** The router only: its metrics' account of the pool's sessions. */
  moves?: SessionMoves;
}

export interface FailoverRound {
  kind: 'switchover' | 'crash';
  round: number;
  from: string;
  to: string;
  /** ms from the request (switchover call / SIGKILL) until the harness saw the new leader. */
  leaderChangeMs: number;
  outages: Record<Writer, WriteOutage>;
  /** Acknowledged INSERTs missing from the table afterwards. */
  lostAcknowledged: Record<Writer, number>;
  /** The pooled writers of the round, per proxy (absent in results that predate them). */
  pools?: Partial<Record<PoolProxy, PoolOutcome>>;
  /** A pool's failed request sent this long after the event (ms) was sent on a session idle at the event: 0 for a switchover, when a crash was first seen. */
  idleFromMs?: number;
}

/** How the pooled writers of the failover rounds ran. */
export interface PooledWriterSettings {
  size: number;
  intervalMs: number;
  user: string;
  /** How the router the pool goes through logs its sessions in again (e.g. SCRAM through the auth_query). */
  login: string;
  /** That router's configuration, the auth role's password left out. */
  routerConfig: string;
  /** Why the router's pool did not run, when it did not. */
  routerMissing?: string;
}

export interface IdleReading {
  rssBeforeKb: number;
  rssWithSessionsKb: number;
  cpuSecondsToOpen: number;
  /** Processes whose RSS is summed (older results lack it: one). */
  processes?: number;
}

export interface IdleSessionsMeasure {
  sessions: number;
  /** How the sessions were opened and why postgres could hold them. */
  how: string;
  router?: IdleReading;
  haproxy?: IdleReading;
  'bare-pipe'?: IdleReading;
  'router-workers'?: IdleReading;
  errors: string[];
}

export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memoryMb: number;
  kernel: string;
  hostname: string;
}

/** What the router was run with, per column. */
export interface RouterColumns {
  /** The `workers` value of the router column ('' when the router has no such setting). */
  router: string;
  /** The `workers` value asked for the router-workers column, and whether it ran. */
  routerWorkers: string;
  routerWorkersRan: boolean;
  /** Why it did not run, when it did not. */
  routerWorkersWhy?: string;
}

/**
 * The mixed workload (issue 14): through the router's split listener, the same router's primary
 * listener, and Pgpool-II with load balancing.
 */
export type SplitEndpoint = 'router-split' | 'router-primary' | 'pgpool';
export const SPLIT_ENDPOINTS: readonly SplitEndpoint[] = ['router-split', 'router-primary', 'pgpool'];

export interface SplitRun {
  endpoint: SplitEndpoint;
  clients: number;
  repetition: number;
  /** 1-minute load average as the run started. */
  loadAverage: number;
  tps: number;
  latencyAverageMs: number;
  /** Over every transaction of the run, and of each script apart (pgbench --log). */
  p99Ms: number;
  readP99Ms: number;
  writeP99Ms: number;
  /** pgbench's total, and its per-script counts (which may leave out each client's last transaction). */
  transactions: number;
  pgbenchReads: number;
  pgbenchWrites: number;
  failedTransactions: number;
  errors: string[];
  /** Where the workload's statements ran, from each member's pg_stat_statements and log. */
  served: Served;
  /** The read-your-writes session that ran beside pgbench through the same endpoint. */
  checker: CheckerOutcome & { replicaReads: number };
  /** The split listener's units during the run (pgbench's and the checker's), `destination:reason`; router-split only. */
  routed?: Record<string, number>;
  /** Statements a replica refused with 25006 and the router ran on the primary instead. */
  retriedOnPrimary?: number;
  /** The most any replica was behind during the run (pg_stat_replication on the primary, every 500 ms). */
  maxReplayLagBytes: number;
  maxReplayLagMs: number;
  proxy?: ProxyUsage;
}

export interface SplitSection {
  seconds: number;
  repetitions: number;
  clients: number[];
  /** The checker starts an iteration (a write and its read) at most this often. */
  checkerIntervalMs: number;
  /** The role pgbench and the checker log in as. */
  user: string;
  primaryPort: number;
  replicaPorts: number[];
  routerConfig: string;
  pgpoolConfig: string;
  runs: SplitRun[];
}

export interface BenchResults {
  date: string;
  mode: 'quick' | 'full';
  /** The parts that ran (older results lack it: every part of their time). */
  sections?: string[];
  machine: MachineFacts;
  /** 1, 5, 15-minute load averages at the start and the end: how busy the shared machine was. */
  load?: { start: number[]; end: number[] };
  routerColumns?: RouterColumns;
  versions: Record<string, string>;
  settings: {
    pgbenchSeconds: number;
    repetitions: number;
    scale: number;
    ttl: number;
    loopWait: number;
    haproxyConfig: string;
  };
  throughput: ThroughputRun[];
  churn: ChurnRun[];
  switchovers: FailoverRound[];
  crashes: FailoverRound[];
  idle?: IdleSessionsMeasure;
  /** The failover rounds' pooled writers; absent in results that predate them. */
  pooledWriter?: PooledWriterSettings;
  /** The mixed read/write workload; absent in results that predate it or when it did not run. */
  split?: SplitSection;
  /** Things that went wrong or deviate from the plan, said plainly. */
  notes: string[];
}

/** The parts of the bench, in the order they run. */
export const BENCH_SECTIONS = ['throughput', 'churn', 'idle', 'split', 'switchover', 'crash'] as const;

/**
 * Whether a run is the reference one bench/results/latest.md shows (README's figures come from
 * it): a full run of every part. Quick or partial runs keep only their own <date>.md.
 */
export function isReferenceRun(results: Pick<BenchResults, 'mode' | 'sections'>, allSections: readonly string[]): boolean {
  return results.mode === 'full' && (results.sections === undefined || allSections.every((s) => results.sections?.includes(s)));
}
