/**
 * What a driver scenario is given and what it reports. Every driver (psql, pgbench,
 * node-postgres, psycopg2, psycopg 3, pgjdbc) runs the same steps against one endpoint, each in
 * its own native way, so a matrix test can compare them cell by cell.
 */

export type DriverName = 'psql' | 'pgbench' | 'node-postgres' | 'psycopg2' | 'psycopg3' | 'pgjdbc';

export const driverNames: readonly DriverName[] = ['psql', 'pgbench', 'node-postgres', 'psycopg2', 'psycopg3', 'pgjdbc'];

export type SslMode = 'disable' | 'prefer' | 'require';

export interface Endpoint {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  sslmode: SslMode;
  /** extra startup options, e.g. "-c patroni_router.target=sync" */
  options?: string;
}

export type StepName = 'connect' | 'prepared' | 'transaction' | 'cancel' | 'big-result' | 'copy' | 'server-info';

/** The order steps always run in: `connect` first because the others need its session. */
export const stepOrder: readonly StepName[] = ['connect', 'server-info', 'prepared', 'transaction', 'cancel', 'big-result', 'copy'];

export interface StepResult {
  step: StepName;
  ok: boolean;
  /** How long the whole step took (for cancel, including the wait before the cancel is sent). */
  ms: number;
  /** cancel: from sending the cancel to the driver raising 57014. */
  latencyMs?: number;
  detail?: string;
  sqlstate?: string;
  error?: string;
  /**
   * Set (with ok false) when the driver has no native way to do this step; says why. Such a
   * step is reported, never imitated through another driver.
   */
  unsupported?: string;
}

export interface ServerInfo {
  /** inet_server_port() */
  port: number;
  /** pg_is_in_recovery() */
  inRecovery: boolean;
  /** pg_stat_ssl.ssl for the session's own backend */
  ssl: boolean;
}

export interface ScenarioResult {
  driver: DriverName;
  steps: StepResult[];
  /** what the server said: inet_server_port(), pg_is_in_recovery(), ssl in use (pg_stat_ssl for own pid) */
  server?: ServerInfo;
}

export interface ScenarioOptions {
  /** Steps to run (always in `stepOrder`; `connect` is always run). Default: all. */
  steps?: StepName[];
  /** Bound on each step, in ms (default 20 000). A step that takes longer fails and ends the scenario. */
  timeoutMs?: number;
  /** The endpoint accepts writes: transaction and copy then write to temp tables. Default false. */
  writable?: boolean;
}
