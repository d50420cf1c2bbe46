/**
 * The scenario with node-postgres 8 (npm `pg`): one Client for the whole scenario.
 *
 * node-postgres has no sslmode: `ssl: false` sends a plain StartupMessage, any `ssl` object
 * sends an SSLRequest and fails if the server answers N. So `require` and `prefer` both mean
 * "TLS without certificate checks" here (the members' certificates are self-signed); there is
 * no plain-text fallback for `prefer`, and a cell that needs one fails with the driver's own
 * error rather than being retried in plain text.
 */
import net from 'node:net';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import type { ScenarioPlan } from './scenario-plan.js';
import type { ScenarioResult, ServerInfo, StepName } from './scenario-types.js';
import { runSteps, StepFailure, Unsupported, type StepBody } from './step-runner.js';

/** What node-postgres keeps from BackendKeyData; present at runtime, missing from @types/pg. */
interface BackendKey {
  processID?: number;
  secretKey?: number;
}

/**
 * node-postgres has no cancel API; its docs point to the protocol's CancelRequest, sent on a new
 * connection with the session's process ID and secret key. That is what this does, with the
 * message node-postgres's own protocol package builds. Like libpq, in plain text.
 */
function sendCancelRequest(host: string, port: number, key: BackendKey): Promise<void> {
  const { processID, secretKey } = key;
  if (processID === undefined || secretKey === undefined) return Promise.reject(new StepFailure('no BackendKeyData on the client'));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => socket.end(serialize.cancel(processID, secretKey)));
    socket.once('error', reject);
    // The server closes the connection without answering once it has read the request.
    socket.once('close', () => resolve());
    socket.resume();
  });
}

export async function nodePostgresScenario(plan: ScenarioPlan): Promise<ScenarioResult> {
  const { endpoint, sql } = plan;
  const client = new pg.Client({
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    database: endpoint.database,
    application_name: plan.applicationName,
    connectionTimeoutMillis: plan.connectTimeoutSeconds * 1000,
    ...(endpoint.password !== undefined ? { password: endpoint.password } : {}),
    ...(endpoint.options !== undefined ? { options: endpoint.options } : {}),
    ssl: endpoint.sslmode === 'disable' ? false : { rejectUnauthorized: false },
  });
  // A session the server ends (a fenced member, say) must fail the running step, not the process.
  let lost: Error | undefined;
  client.on('error', (error) => (lost = error));
  let server: ServerInfo | undefined;

  const query = async <R extends pg.QueryResultRow>(config: string | pg.QueryConfig): Promise<pg.QueryResult<R>> => {
    if (lost) throw new StepFailure(`session lost earlier: ${lost.message}`);
    return client.query<R>(config);
  };

  const steps: Record<StepName, StepBody> = {
    connect: async () => {
      await client.connect();
      return endpoint.sslmode === 'disable' ? 'plain StartupMessage (ssl: false)' : 'SSLRequest (ssl: {rejectUnauthorized: false}); no plain fallback';
    },
    'server-info': async () => {
      const row = (await query<{ port: number; in_recovery: boolean; ssl: boolean }>(sql.serverInfo)).rows[0];
      if (row === undefined) throw new StepFailure('no row');
      server = { port: row.port, inRecovery: row.in_recovery, ssl: row.ssl };
      return `port ${server.port}, in recovery ${server.inRecovery}, ssl ${server.ssl}`;
    },
    prepared: async () => {
      // A named query is parsed once per connection and then only bound and executed.
      for (let i = 0; i < plan.preparedExecutions; i++) {
        const row = (await query<{ n: number }>({ name: 'drivers-prepared', text: 'SELECT $1::int + 1 AS n', values: [i] })).rows[0];
        if (row?.n !== i + 1) throw new StepFailure(`execution ${i} returned ${JSON.stringify(row)}`);
      }
      const named = (await query<{ n: string }>("SELECT count(*) AS n FROM pg_prepared_statements WHERE name = 'drivers-prepared'")).rows[0];
      if (named?.n !== '1') throw new StepFailure(`pg_prepared_statements has ${named?.n} statements named drivers-prepared`);
      return `named query executed ${plan.preparedExecutions} times; one server-side statement`;
    },
    transaction: async () => {
      if (plan.writable) {
        await query('BEGIN');
        await query(sql.createTxTable);
        await query({ text: 'INSERT INTO drivers_tx VALUES (1, $1)', values: ['node-postgres'] });
        const inside = (await query<{ note: string }>('SELECT note FROM drivers_tx WHERE id = 1')).rows[0]?.note;
        await query('COMMIT');
        const after = (await query<{ note: string }>('SELECT note FROM drivers_tx WHERE id = 1')).rows[0]?.note;
        if (inside !== 'node-postgres' || after !== 'node-postgres') throw new StepFailure(`read back ${inside} / ${after}`);
        return 'BEGIN; CREATE TEMP TABLE; INSERT; SELECT; COMMIT; row read back after commit';
      }
      await query('BEGIN READ ONLY');
      const readOnly = (await query<{ transaction_read_only: string }>('SHOW transaction_read_only')).rows[0]?.transaction_read_only;
      const relations = (await query<{ n: string }>('SELECT count(*) AS n FROM pg_catalog.pg_class')).rows[0]?.n;
      await query('COMMIT');
      if (readOnly !== 'on' || !(Number(relations) > 0)) throw new StepFailure(`read-only transaction: transaction_read_only ${readOnly}, ${relations} relations`);
      return 'BEGIN READ ONLY; SHOW; SELECT; COMMIT';
    },
    cancel: async () => {
      const sleeping = query(sql.sleep).then(
        () => undefined,
        (error: unknown) => error,
      );
      await new Promise((resolve) => setTimeout(resolve, plan.cancel.afterMs));
      const sent = performance.now();
      await sendCancelRequest(endpoint.host, endpoint.port, client as unknown as BackendKey);
      const error = await sleeping;
      const ms = Math.round(performance.now() - sent);
      const code = (error as { code?: unknown } | undefined)?.code;
      if (code !== '57014')
        throw new StepFailure(`after the CancelRequest: ${error instanceof Error ? error.message : 'the query completed'} (${ms} ms)`, typeof code === 'string' ? code : undefined);
      if (ms > plan.cancel.deadlineMs) throw new StepFailure(`cancelled, but only ${ms} ms after the CancelRequest`, '57014');
      await new Promise((resolve) => setTimeout(resolve, plan.cancel.settleMs));
      return { detail: `CancelRequest on a new socket; 57014 after ${ms} ms`, latencyMs: ms };
    },
    'big-result': async () => {
      const rows = (await query<{ payload: string }>(sql.bigResult)).rows;
      const bytes = rows.reduce((n, r) => n + r.payload.length, 0);
      const { rows: expectedRows, width } = plan.bigResult;
      if (rows.length !== expectedRows || bytes !== expectedRows * width) throw new StepFailure(`read ${rows.length} rows, ${bytes} bytes`);
      return `${rows.length} rows, ${bytes} bytes`;
    },
    copy: () => {
      // COPY needs pg-copy-streams: node-postgres answers CopyInResponse with CopyFail and
      // drops CopyData. Writing the COPY sub-protocol by hand would test our code, not the driver.
      throw new Unsupported('node-postgres has no COPY without pg-copy-streams (not installed)');
    },
  };

  const abandon = (): void => {
    // end() would wait for the hung query; the socket is all there is to drop.
    (client as unknown as { connection?: { stream?: net.Socket } }).connection?.stream?.destroy();
  };
  try {
    const results = await runSteps(plan, { step: (s) => steps[s], abandon });
    return { driver: 'node-postgres', steps: results, ...(server ? { server } : {}) };
  } finally {
    // Bounded: after a hang, end() could wait for a server that never answers.
    await Promise.race([client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  }
}
