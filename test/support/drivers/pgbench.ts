/**
 * The scenario with pgbench 15: short custom-script runs (one client, `-t N`). pgbench cannot
 * print query results, so scripts store them with `\gset` and print them with `\shell echo`;
 * a check that must fail the run divides by zero on the server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClientCommands } from './client-command.js';
import { libpqEnvironment } from './libpq-environment.js';
import type { ScenarioPlan } from './scenario-plan.js';
import type { ScenarioResult, ServerInfo, StepName } from './scenario-types.js';
import { runSteps, StepFailure, Unsupported, type StepBody } from './step-runner.js';

type QueryMode = 'simple' | 'extended' | 'prepared';

interface PgbenchRun {
  processed: number;
  /** Lines the script printed with `\shell echo drivers ...`, without the prefix. */
  echoed: string[];
  connectionMs: number;
}

export async function pgbenchScenario(plan: ScenarioPlan): Promise<ScenarioResult> {
  const commands = new ClientCommands();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drivers-pgbench-'));
  let server: ServerInfo | undefined;
  let scripts = 0;

  async function pgbench(what: string, script: string[], opts: { transactions?: number; mode?: QueryMode } = {}): Promise<PgbenchRun> {
    const file = path.join(dir, `script-${++scripts}.sql`);
    fs.writeFileSync(file, `${script.join('\n')}\n`);
    const transactions = opts.transactions ?? 1;
    const args = ['-n', '-c', '1', '-t', String(transactions), '-M', opts.mode ?? 'simple', '-f', file];
    const out = await commands.run('pgbench', args, { env: libpqEnvironment(plan) });
    const text = `${out.stdout.toString('utf8')}\n${out.stderr}`;
    const processed = Number(/number of transactions actually processed: (\d+)/.exec(text)?.[1] ?? NaN);
    if (out.code !== 0 || processed !== transactions) {
      const error = /(?:ERROR|FATAL):\s+(.*)/.exec(out.stderr)?.[1];
      const done = Number.isNaN(processed) ? 'no summary' : `${processed}/${transactions} transactions`;
      throw new StepFailure(`pgbench ${what} exited ${out.code ?? out.signal} (${done}): ${error ?? out.stderr.trim()}`);
    }
    const echoed = text
      .split('\n')
      .filter((l) => l.startsWith('drivers '))
      .map((l) => l.slice('drivers '.length));
    const connectionMs = Number(/initial connection time = ([\d.]+) ms/.exec(text)?.[1] ?? NaN);
    return { processed, echoed, connectionMs };
  }

  const { sql } = plan;
  const steps: Record<StepName, StepBody> = {
    connect: async () => {
      const run = await pgbench('connect', ['SELECT 1;']);
      return `initial connection time ${run.connectionMs} ms (sslmode ${plan.endpoint.sslmode})`;
    },
    'server-info': async () => {
      const run = await pgbench('server-info', [`${sql.serverInfo} \\gset`, '\\shell echo drivers :port :in_recovery :ssl']);
      const [port, inRecovery, ssl] = (run.echoed[0] ?? '').split(' ');
      server = { port: Number(port), inRecovery: inRecovery === 't', ssl: ssl === 't' };
      return `port ${server.port}, in recovery ${server.inRecovery}, ssl ${server.ssl}`;
    },
    prepared: async () => {
      // pg_catalog.pg_class rather than a table of our own: it is on every member, replicas
      // included, and every role may read it (PG 15 lets no ordinary role create in public).
      const script = [
        '\\set oid random(1, 3000)',
        'SELECT count(*) FROM pg_catalog.pg_class WHERE oid = :oid;',
        'SELECT count(*) AS named FROM pg_prepared_statements \\gset',
        '\\shell echo drivers :named',
      ];
      const named: string[] = [];
      for (const mode of ['simple', 'extended', 'prepared'] as const) {
        const run = await pgbench(`-M ${mode}`, script, { mode, transactions: plan.preparedExecutions });
        const last = Number(run.echoed.at(-1));
        // Only -M prepared leaves named statements behind (P_0, P_1, ...).
        if ((mode === 'prepared') !== last > 0) throw new StepFailure(`-M ${mode}: ${last} named prepared statements in the session`);
        named.push(`${mode} ${run.processed} tx, ${last} named`);
      }
      return named.join('; ');
    },
    transaction: async () => {
      if (plan.writable) {
        const run = await pgbench('transaction', [
          'BEGIN;',
          `${sql.createTxTable};`,
          "INSERT INTO drivers_tx VALUES (1, 'pgbench');",
          "SELECT 1 / (count(*) = 1)::int FROM drivers_tx WHERE note = 'pgbench';",
          'COMMIT;',
          'SELECT note FROM drivers_tx WHERE id = 1 \\gset',
          '\\shell echo drivers :note',
        ]);
        if (run.echoed[0] !== 'pgbench') throw new StepFailure(`read back ${JSON.stringify(run.echoed[0])} after commit, expected pgbench`);
        return 'BEGIN; CREATE TEMP TABLE; INSERT; SELECT; COMMIT; row read back after commit';
      }
      const run = await pgbench('transaction', [
        'BEGIN READ ONLY;',
        'SHOW transaction_read_only \\gset',
        'SELECT count(*) AS relations FROM pg_catalog.pg_class \\gset',
        'COMMIT;',
        '\\shell echo drivers :transaction_read_only :relations',
      ]);
      const [readOnly, relations] = (run.echoed[0] ?? '').split(' ');
      if (readOnly !== 'on' || !(Number(relations) > 0)) throw new StepFailure(`read-only transaction printed ${JSON.stringify(run.echoed[0])}`);
      return 'BEGIN READ ONLY; SHOW; SELECT; COMMIT';
    },
    cancel: () => {
      // Measured here: pgbench ignores SIGINT while a statement runs and sends no CancelRequest.
      throw new Unsupported('pgbench has no way to cancel a running statement');
    },
    'big-result': () => {
      throw new Unsupported('pgbench discards result rows, so it cannot count what it read');
    },
    copy: async () => {
      if (!plan.writable) throw new Unsupported('pgbench only does COPY FROM STDIN (pgbench -i), which needs a writable endpoint; it has no COPY TO STDOUT');
      // `-I dtg`: drop, create, client-side generate (COPY FROM STDIN). With pg_temp first in
      // search_path the tables are created as temp tables: private to the session, and no
      // role needs CREATE on public.
      const out = await commands.run('pgbench', ['-i', '-q', '-s', '1', '-I', 'dtg'], { env: libpqEnvironment(plan, '-c search_path=pg_temp') });
      const text = `${out.stdout.toString('utf8')}\n${out.stderr}`;
      const done = /(\d+) of (\d+) tuples \(100%\) done/.exec(text);
      if (out.code !== 0 || done === null || done[1] !== '100000') throw new StepFailure(`pgbench -i exited ${out.code ?? out.signal}: ${out.stderr.trim()}`);
      return `COPY FROM STDIN by pgbench -i: ${done[1]} rows; no COPY TO STDOUT in pgbench`;
    },
  };

  try {
    const results = await runSteps(plan, { step: (s) => steps[s], abandon: () => commands.killAll() });
    return { driver: 'pgbench', steps: results, ...(server ? { server } : {}) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
