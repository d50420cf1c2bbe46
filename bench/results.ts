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

export interface BenchResults {
  date: string;
  mode: 'quick' | 'full';
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
  /** Things that went wrong or deviate from the plan, said plainly. */
  notes: string[];
}
