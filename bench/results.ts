import type { WriteOutage } from './write-attempts.js';

/** The shape of bench/results/<date>.json. */

export type Endpoint = 'direct' | 'haproxy' | 'router';
export const ENDPOINTS: readonly Endpoint[] = ['direct', 'haproxy', 'router'];

/** A writer during a switchover/crash: the proxies, and the oracle that tries every member itself. */
export type Writer = 'oracle' | 'haproxy' | 'router';
export const WRITERS: readonly Writer[] = ['oracle', 'haproxy', 'router'];

export type Workload = 'select-simple' | 'select-prepared' | 'tpcb';

export interface ProxyUsage {
  peakRssKb: number;
  cpuSeconds: number;
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

export interface IdleSessionsMeasure {
  sessions: number;
  /** How the sessions were opened and why postgres could hold them. */
  how: string;
  router?: { rssBeforeKb: number; rssWithSessionsKb: number; cpuSecondsToOpen: number };
  haproxy?: { rssBeforeKb: number; rssWithSessionsKb: number; cpuSecondsToOpen: number };
  errors: string[];
}

export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memoryMb: number;
  kernel: string;
  hostname: string;
}

export interface BenchResults {
  date: string;
  mode: 'quick' | 'full';
  machine: MachineFacts;
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
