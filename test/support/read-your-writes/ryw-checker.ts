/**
 * The read-your-writes checker, in every driver of the compatibility matrix: one session writes
 * a new value to its own row, reads it back at once and once more, `iterations` times, and
 * counts the reads that saw anything else (stale) and which server answered each read
 * (inet_server_port()), so a test can tell replica reads from primary ones. A read where the
 * row is missing (a replica that has not replayed its INSERT) counts as stale too.
 *
 * `transactions`: each write runs in a transaction of its own, begun and committed the driver's
 * way (BEGIN and COMMIT apart, BEGIN in the write's batch, ...), the reads in autocommit.
 *
 * Needs a table `ryw_check (k text PRIMARY KEY, v int)` the user may write.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { compiledJavaProgram, pgjdbcJar, shortLivedJvm } from '../drivers/pgjdbc-classes.js';

export type CheckerDriver = 'node-postgres' | 'psql' | 'psycopg2' | 'psycopg3' | 'pgjdbc';
export const checkerDrivers: readonly CheckerDriver[] = ['node-postgres', 'psql', 'psycopg2', 'psycopg3', 'pgjdbc'];

export interface CheckerEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface CheckerResult {
  iterations: number;
  stale: number;
  /** Reads answered, by the answering server's port. */
  reads: Record<string, number>;
  errors: string[];
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** Runs the checker; `deadlineMs` bounds it (the driver stops and reports what it did by then). */
export interface CheckerOptions {
  key: string;
  iterations: number;
  deadlineMs: number;
  transactions?: boolean;
}

export async function runChecker(driver: CheckerDriver, endpoint: CheckerEndpoint, opts: CheckerOptions): Promise<CheckerResult> {
  switch (driver) {
    case 'node-postgres':
      return nodePostgres(endpoint, opts);
    case 'psql':
      return psql(endpoint, opts);
    case 'psycopg2':
    case 'psycopg3': {
      const plan = JSON.stringify({
        driver,
        endpoint: { ...endpoint, sslmode: 'disable' },
        key: opts.key,
        iterations: opts.iterations,
        deadlineSeconds: opts.deadlineMs / 1000,
        transactions: opts.transactions === true,
      });
      return parseResult(await program('/usr/bin/python3', ['-E', '-s', '-B', 'ryw_checker.py'], here, plan, opts.deadlineMs));
    }
    case 'pgjdbc': {
      const classes = await compiledJavaProgram(path.join(here, 'RywChecker.java'), 'RywChecker');
      const args = [
        ...shortLivedJvm,
        '-cp',
        `${classes}${path.delimiter}${pgjdbcJar}`,
        'RywChecker',
        endpoint.host,
        String(endpoint.port),
        endpoint.user,
        endpoint.password,
        endpoint.database,
        opts.key,
        String(opts.iterations),
        String(opts.deadlineMs / 1000),
        ...(opts.transactions === true ? ['transactions'] : []),
      ];
      return parseResult(await program('java', args, classes, '', opts.deadlineMs + 15_000));
    }
  }
}

async function nodePostgres(endpoint: CheckerEndpoint, opts: CheckerOptions): Promise<CheckerResult> {
  const client = new pg.Client({ ...endpoint, connectionTimeoutMillis: 10_000, application_name: 'ryw-node-postgres' });
  const result: CheckerResult = { iterations: 0, stale: 0, reads: {}, errors: [] };
  const deadline = Date.now() + opts.deadlineMs;
  await client.connect();
  try {
    await client.query('INSERT INTO ryw_check (k, v) VALUES ($1, 0) ON CONFLICT (k) DO UPDATE SET v = 0', [opts.key]);
    for (let i = 1; i <= opts.iterations; i++) {
      if (Date.now() > deadline) {
        result.errors.push('deadline passed');
        break;
      }
      try {
        if (opts.transactions === true) await client.query('BEGIN');
        await client.query('UPDATE ryw_check SET v = $1 WHERE k = $2', [i, opts.key]);
        if (opts.transactions === true) await client.query('COMMIT');
        for (let r = 0; r < 2; r++) {
          const row = (
            await client.query<{ v: number; port: number }>({
              name: 'ryw-read',
              text: 'SELECT (SELECT v FROM ryw_check WHERE k = $1) AS v, inet_server_port() AS port',
              values: [opts.key],
            })
          ).rows[0];
          const port = String(row?.port);
          result.reads[port] = (result.reads[port] ?? 0) + 1;
          if (row?.v !== i) result.stale++;
        }
        result.iterations = i;
      } catch (error) {
        const err = error as Error & { code?: string };
        result.errors.push(`${err.code}: ${err.message}`);
        if (result.errors.length > 5) break;
      }
    }
  } finally {
    await client.end();
  }
  return result;
}

/** psql runs a generated script: each statement is its own simple Query, as psql sends them. */
async function psql(endpoint: CheckerEndpoint, opts: CheckerOptions): Promise<CheckerResult> {
  const key = opts.key.replace(/'/g, "''");
  const lines = [`INSERT INTO ryw_check (k, v) VALUES ('${key}', 0) ON CONFLICT (k) DO UPDATE SET v = 0;`];
  for (let i = 1; i <= opts.iterations; i++) {
    const update = `UPDATE ryw_check SET v = ${i} WHERE k = '${key}';`;
    lines.push(...(opts.transactions === true ? ['BEGIN;', update, 'COMMIT;'] : [update]));
    for (let r = 0; r < 2; r++) lines.push(`SELECT ${i}, (SELECT v FROM ryw_check WHERE k = '${key}'), inet_server_port();`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ryw-psql-'));
  const script = path.join(dir, 'ryw.sql');
  fs.writeFileSync(script, lines.join('\n'));
  try {
    const env = { ...process.env, PGPASSWORD: endpoint.password, PGCONNECT_TIMEOUT: '10', PGAPPNAME: 'ryw-psql', PGSSLMODE: 'disable' };
    const out = await program(
      'psql',
      ['-XAtq', '-v', 'ON_ERROR_STOP=1', '-h', endpoint.host, '-p', String(endpoint.port), '-U', endpoint.user, '-d', endpoint.database, '-f', script],
      dir,
      '',
      opts.deadlineMs,
      env,
    );
    const result: CheckerResult = { iterations: 0, stale: 0, reads: {}, errors: out.stderr.trim() === '' ? [] : [out.stderr.trim()] };
    for (const line of out.stdout.split('\n')) {
      const [wanted, v, port] = line.split('|');
      if (port === undefined) continue;
      result.reads[port] = (result.reads[port] ?? 0) + 1;
      if (v !== wanted) result.stale++;
      result.iterations = Number(wanted);
    }
    return result;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function program(
  command: string,
  args: string[],
  cwd: string,
  stdin: string,
  deadlineMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs + 10_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

function parseResult(out: { stdout: string; stderr: string }): CheckerResult {
  const line = out.stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as CheckerResult;
    if (typeof parsed.iterations !== 'number' || typeof parsed.stale !== 'number') throw new Error('not a checker result');
    return parsed;
  } catch {
    return { iterations: 0, stale: 0, reads: {}, errors: [`no result: ${out.stderr.trim() || line}`] };
  }
}
