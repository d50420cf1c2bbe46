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
