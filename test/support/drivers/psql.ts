/**
 * The scenario with psql 15: one psql process per step (each its own session, as a shell script
 * would use it), connecting through libpq's environment. Errors are printed with VERBOSITY
 * verbose so their SQLSTATE can be read back.
 */
import { ClientCommands, type CommandOutcome } from './client-command.js';
import { libpqEnvironment } from './libpq-environment.js';
import type { ScenarioPlan } from './scenario-plan.js';
import type { ScenarioResult, ServerInfo, StepName } from './scenario-types.js';
import { runSteps, StepFailure, type StepBody } from './step-runner.js';

/** `ERROR:  57014: canceling statement due to user request` */
const verboseError = /^(?:psql:[^\n]*?: )?(?:ERROR|FATAL):\s+([0-9A-Z]{5}): (.*)$/m;

function failure(what: string, out: CommandOutcome): StepFailure {
  const error = verboseError.exec(out.stderr);
  const how = out.signal !== null ? `killed by ${out.signal}` : `exited ${out.code}`;
  return new StepFailure(`psql ${what} ${how}: ${out.stderr.trim() || '(no stderr)'}`, error?.[1]);
}

export async function psqlScenario(plan: ScenarioPlan): Promise<ScenarioResult> {
  const commands = new ClientCommands();
  const env = libpqEnvironment(plan);
  // -X: no ~/.psqlrc; -A -t -q: bare values; -w: never prompt; -F: a separator no value contains.
  const base = ['-X', '-A', '-t', '-q', '-w', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose'];
  let server: ServerInfo | undefined;

  /** Runs psql with one -c per command in one session; resolves with stdout lines. */
  async function psql(what: string, commandsToRun: string[], stdin?: string): Promise<string[]> {
    const args = [...base, ...commandsToRun.flatMap((c) => ['-c', c])];
    const out = await commands.run('psql', args, { env, ...(stdin !== undefined ? { stdin } : {}) });
    if (out.code !== 0) throw failure(what, out);
    return out.stdout
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '');
  }

  const { sql } = plan;
  const steps: Record<StepName, StepBody> = {
    connect: async () => {
      await psql('connect', ['SELECT 1']);
      return `psql connected (sslmode ${plan.endpoint.sslmode})`;
    },
    'server-info': async () => {
      const [line] = await psql('server-info', [sql.serverInfo]);
      const [port, inRecovery, ssl] = (line ?? '').split('|');
      server = { port: Number(port), inRecovery: inRecovery === 't', ssl: ssl === 't' };
      return `port ${server.port}, in recovery ${server.inRecovery}, ssl ${server.ssl}`;
    },
    prepared: async () => {
      const n = plan.preparedExecutions;
      const executes = Array.from({ length: n }, (_, i) => `EXECUTE drivers_prepared(${i})`);
      const lines = await psql('prepared', [
        'PREPARE drivers_prepared(int) AS SELECT $1 + 1',
        ...executes,
        "SELECT count(*) FROM pg_prepared_statements WHERE name = 'drivers_prepared'",
      ]);
      const expected = [...Array.from({ length: n }, (_, i) => String(i + 1)), '1'];
      if (lines.join(',') !== expected.join(',')) throw new StepFailure(`PREPARE/EXECUTE returned ${lines.join(',')}, expected ${expected.join(',')}`);
      return `PREPARE then ${n} x EXECUTE; pg_prepared_statements has it`;
    },
    transaction: async () => {
      if (plan.writable) {
        const lines = await psql('transaction', [
          'BEGIN',
          sql.createTxTable,
          "INSERT INTO drivers_tx VALUES (1, 'psql')",
          'SELECT note FROM drivers_tx WHERE id = 1',
          'COMMIT',
          'SELECT note FROM drivers_tx WHERE id = 1',
        ]);
        if (lines.join(',') !== 'psql,psql') throw new StepFailure(`read back ${lines.join(',')}, expected psql,psql`);
        return 'BEGIN; CREATE TEMP TABLE; INSERT; SELECT; COMMIT; row read back after commit';
      }
      const lines = await psql('transaction', ['BEGIN READ ONLY', 'SHOW transaction_read_only', 'SELECT count(*) > 0 FROM pg_catalog.pg_class', 'COMMIT']);
      if (lines.join(',') !== 'on,t') throw new StepFailure(`read-only transaction returned ${lines.join(',')}, expected on,t`);
      return 'BEGIN READ ONLY; SHOW; SELECT; COMMIT';
    },
    cancel: async () => {
      // psql's SIGINT handler sends a CancelRequest on a new connection, as Ctrl-C does. The
      // \warn line (stderr is unbuffered) says the session is up and the query is next. No
      // settle time needed (scenario-plan.ts): the session ends with this psql.
      const running = commands.start('psql', [...base, '-c', '\\warn drivers-ready', '-c', sql.sleep], { env });
      const ready = new Promise<void>((resolve) => running.onStderr((text) => text.includes('drivers-ready') && resolve()));
      const first = await Promise.race([ready.then(() => 'ready' as const), running.done]);
      if (first !== 'ready') throw failure('cancel (before the query started)', first);
      await new Promise((resolve) => setTimeout(resolve, plan.cancel.afterMs));
      const sent = performance.now();
      running.child.kill('SIGINT');
      const out = await running.done;
      const ms = Math.round(performance.now() - sent);
      const error = verboseError.exec(out.stderr);
      if (error?.[1] !== '57014') throw failure(`cancel (${ms} ms after SIGINT)`, out);
      if (ms > plan.cancel.deadlineMs) throw new StepFailure(`cancelled, but only ${ms} ms after SIGINT`, '57014');
      return { detail: `SIGINT -> CancelRequest; 57014 after ${ms} ms`, latencyMs: ms };
    },
    'big-result': async () => {
      const out = await commands.run('psql', [...base, '-c', sql.bigResult], { env });
      if (out.code !== 0) throw failure('big-result', out);
      const { rows, width } = plan.bigResult;
      // One line per row: the value and a newline.
      const expected = rows * (width + 1);
      if (out.stdout.length !== expected) throw new StepFailure(`read ${out.stdout.length} bytes, expected ${expected}`);
      return `${rows} rows, ${rows * width} bytes of values`;
    },
    copy: async () => {
      const outLines = await psql('COPY TO STDOUT', [sql.copyOut]);
      const n = plan.copyRows;
      if (outLines.length !== n || outLines[n - 1] !== `${n}\tnote-${n}`) {
        throw new StepFailure(`COPY TO STDOUT gave ${outLines.length} rows (last ${JSON.stringify(outLines.at(-1))}), expected ${n}`);
      }
      if (!plan.writable) return `COPY TO STDOUT: ${n} rows`;
      const data = Array.from({ length: n }, (_, i) => `${i + 1}\tnote-${i + 1}\n`).join('');
      const [counts] = await psql('\\copy FROM', [sql.createCopyTable, '\\copy drivers_copy FROM pstdin', sql.copyInCheck], data);
      const expected = `${n}|${(n * (n + 1)) / 2}`;
      if (counts !== expected) throw new StepFailure(`after \\copy FROM pstdin: count|sum ${counts}, expected ${expected}`);
      return `COPY TO STDOUT: ${n} rows; \\copy FROM pstdin: ${n} rows`;
    },
  };

  const results = await runSteps(plan, { step: (s) => steps[s], abandon: () => commands.killAll() });
  return { driver: 'psql', steps: results, ...(server ? { server } : {}) };
}
