import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { emptyTransactionLog, latenciesOfScript, parsePgbenchSummary, parseTransactionLog, type PgbenchSummary } from './pgbench-output.js';
import { summarise } from './statistics.js';

export interface PgbenchTarget {
  host: string;
  port: number;
  user: string;
  database: string;
}

export interface PgbenchResult extends PgbenchSummary {
  /** From the per-transaction log, when one was asked for. */
  p99Ms?: number;
  loggedTransactions?: number;
  /** p99 of each script's transactions (multi-script runs), in script order. */
  p99MsByScript?: number[];
}

/**
 * Plain TCP, as node-postgres connects by default: the members serve TLS, and with libpq's
 * `prefer` every -C connection would pay a handshake that hides the proxies' own cost.
 */
function environment(target: PgbenchTarget): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value;
  return { ...env, PGHOST: target.host, PGPORT: String(target.port), PGUSER: target.user, PGDATABASE: target.database, PGSSLMODE: 'disable' };
}

/** Runs pgbench to completion; resolves with its combined output even when it exits non-zero. */
function pgbench(target: PgbenchTarget, args: string[], timeoutMs: number): Promise<{ output: string; failure?: string }> {
  return new Promise((resolve) => {
    execFile('pgbench', args, { env: environment(target), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`;
      resolve(error ? { output, failure: error.message.split('\n')[0] ?? 'pgbench failed' } : { output });
    });
  });
}

export async function initialisePgbench(target: PgbenchTarget, scale: number): Promise<void> {
  const { output, failure } = await pgbench(target, ['-i', '-q', '-s', String(scale)], 600_000);
  if (failure) throw new Error(`pgbench -i -s ${scale} failed: ${failure}\n${output.trim().split('\n').slice(-5).join('\n')}`);
}

/**
 * One timed pgbench run (`-T seconds`, `-n`: the tables are vacuumed once after init, not before
 * every run). With `logDir`, per-transaction logs go there and give the p99 latency; the files
 * are removed afterwards.
 */
export async function runPgbench(
  target: PgbenchTarget,
  opts: { args: string[]; seconds: number; clients: number; threads: number; logDir?: string; label: string },
): Promise<PgbenchResult> {
  const args = ['-n', '-c', String(opts.clients), '-j', String(opts.threads), '-T', String(opts.seconds), ...opts.args];
  let prefix: string | undefined;
  if (opts.logDir) {
    prefix = path.join(opts.logDir, opts.label.replace(/[^A-Za-z0-9_-]/g, '_'));
    args.push('--log', `--log-prefix=${prefix}`);
  }
  const { output, failure } = await pgbench(target, args, (opts.seconds + 120) * 1000);
  let summary: PgbenchSummary;
  try {
    summary = parsePgbenchSummary(output);
  } catch (error) {
    throw new Error(`pgbench ${opts.label} (${args.join(' ')}) ${failure ?? ''}: ${(error as Error).message}`);
  }
  if (failure && summary.errors.length === 0) summary.errors.push(failure);
  if (!prefix || !opts.logDir) return summary;

  const base = path.basename(prefix);
  const files = fs.readdirSync(opts.logDir).filter((f) => f.startsWith(`${base}.`));
  const log = emptyTransactionLog();
  for (const file of files) {
    const full = path.join(opts.logDir, file);
    parseTransactionLog(fs.readFileSync(full, 'utf8'), log);
    fs.rmSync(full, { force: true });
  }
  const latency = summarise(log.latenciesUs);
  const byScript = summary.scripts?.map((_, i) => summarise(latenciesOfScript(log, i)).p99 / 1000);
  return { ...summary, p99Ms: latency.p99 / 1000, loggedTransactions: latency.count, ...(byScript ? { p99MsByScript: byScript } : {}) };
}
