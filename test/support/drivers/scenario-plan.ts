/**
 * The scenario's fixed sizes, counts and deadlines, in one place for every driver. The Python
 * and Java programs get the same plan as JSON on stdin, so no number is repeated in them.
 */
import { stepOrder, type DriverName, type Endpoint, type ScenarioOptions, type StepName } from './scenario-types.js';

export interface ScenarioPlan {
  driver: DriverName;
  endpoint: Endpoint;
  /** In `stepOrder`, always starting with `connect`. */
  steps: StepName[];
  writable: boolean;
  stepTimeoutMs: number;
  /**
   * The driver's own bound on connecting, well inside the step timeout, so a connect that hangs
   * fails with the driver's error rather than being cut off by the step's timer.
   */
  connectTimeoutSeconds: number;
  /** big-result: `rows` rows of `repeat('x', width)`, 20 MiB in all. */
  bigResult: { rows: number; width: number };
  /** copy: rows out (COPY TO STDOUT) and, when writable, in (COPY FROM STDIN). */
  copyRows: number;
  /**
   * cancel: the query is started, the cancel sent `afterMs` later (long enough for the backend
   * to be inside pg_sleep even on a loaded machine: one cancel, never retried, so a cancel the
   * router sends to the wrong member shows) and its error must arrive within `deadlineMs`.
   *
   * Then the session stays idle for `settleMs` before the next step. PostgreSQL signals a
   * cancelled backend twice (SIGINT to its pid, then to its process group); when the process
   * sending them is descheduled in between, as happens on a loaded 2-core machine, the second
   * SIGINT can land after the first one's error and cancel the next statement if the client
   * has already sent it (seen once in 72 cells straight to a member). An idle backend absorbs
   * it. The price: a router forwarding one cancel twice within `settleMs` would go unseen.
   */
  cancel: { sleepSeconds: number; afterMs: number; deadlineMs: number; settleMs: number };
  /** prepared: executions of one statement, past every driver's default threshold of 5. */
  preparedExecutions: number;
  /** application_name, so a session can be found in pg_stat_activity. */
  applicationName: string;
  /** The SQL every driver sends as is (driver-specific statements live with each driver). */
  sql: ScenarioSql;
}

export interface ScenarioSql {
  /** One row: port, in_recovery, ssl. */
  serverInfo: string;
  bigResult: string;
  copyOut: string;
  sleep: string;
  /** Temp tables: session-private, so cells never collide, and PG 15 lets every role create them. */
  createTxTable: string;
  createCopyTable: string;
  /** COPY FROM STDIN target; rows are `<n>\tnote-<n>` for n = 1..copyRows. */
  copyIn: string;
  /** One row: count, sum of id, after the COPY FROM STDIN. */
  copyInCheck: string;
}

export const defaultStepTimeoutMs = 20_000;

export function scenarioPlan(driver: DriverName, endpoint: Endpoint, opts: ScenarioOptions = {}): ScenarioPlan {
  const wanted = new Set<StepName>(opts.steps ?? stepOrder);
  wanted.add('connect');
  const stepTimeoutMs = opts.timeoutMs ?? defaultStepTimeoutMs;
  const bigResult = { rows: 20_480, width: 1_024 };
  const copyRows = 1_000;
  const cancel = { sleepSeconds: 30, afterMs: 1_000, deadlineMs: 5_000, settleMs: 250 };
  return {
    driver,
    endpoint,
    steps: stepOrder.filter((s) => wanted.has(s)),
    writable: opts.writable ?? false,
    stepTimeoutMs,
    // libpq wants whole seconds, at least 2.
    connectTimeoutSeconds: Math.max(2, Math.floor(stepTimeoutMs / 2_000)),
    bigResult,
    copyRows,
    cancel,
    preparedExecutions: 8,
    applicationName: `drivers-${driver}`,
    sql: {
      serverInfo: 'SELECT inet_server_port() AS port, pg_is_in_recovery() AS in_recovery, ' + 'coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false) AS ssl',
      bigResult: `SELECT repeat('x', ${bigResult.width}) AS payload FROM generate_series(1, ${bigResult.rows})`,
      copyOut: `COPY (SELECT g AS id, 'note-' || g AS note FROM generate_series(1, ${copyRows}) AS g) TO STDOUT`,
      sleep: `SELECT pg_sleep(${cancel.sleepSeconds})`,
      createTxTable: 'CREATE TEMP TABLE drivers_tx (id int PRIMARY KEY, note text)',
      createCopyTable: 'CREATE TEMP TABLE drivers_copy (id int, note text)',
      copyIn: 'COPY drivers_copy FROM STDIN',
      copyInCheck: 'SELECT count(*) AS n, sum(id) AS total FROM drivers_copy',
    },
  };
}

/** The step list for a scenario that could not start or was cut short: what ran, then the rest as not run. */
export function notRun(steps: readonly StepName[], reason: string): Array<{ step: StepName; ok: false; ms: 0; error: string }> {
  return steps.map((step) => ({ step, ok: false, ms: 0, error: `not run: ${reason}` }));
}
