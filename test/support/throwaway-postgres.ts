import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../cluster/free-port.js';
import { childEnvironment, giveToPostgres, postgresOsUser } from '../cluster/os-user.js';
import { newestPostgresBinDir } from '../cluster/postgres-install.js';
import { stopPostgres } from '../cluster/postmaster.js';
import { forgetDataDir, forgetDir, registerDataDir, registerDir } from '../cluster/process-registry.js';
import { runCommand } from '../cluster/run-command.js';
import { SpawnedProcess } from '../cluster/spawned-process.js';
import { waitFor } from '../cluster/wait-for.js';
import { logTail } from '../cluster/log-tail.js';

export interface ThrowawayPostgresOptions {
  /** pg_hba.conf lines, first match wins. */
  hba: string[];
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
  /** Server certificate and key (copied into the data directory) to turn ssl on. */
  tls?: { certFile: string; keyFile: string };
}

export interface ThrowawayPostgres {
  port: number;
  dir: string;
  logFile: string;
  /** Runs SQL as the superuser `postgres` (trust on 127.0.0.1 must be in the hba lines). */
  sql(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

/**
 * A single PostgreSQL server in a fresh /tmp directory, run as the `postgres` OS user when we
 * are root, on a free loopback port: initdb, our pg_hba, start, and on stop() an immediate
 * shutdown and removal. Registered with the harness's process registry, so a crashed test
 * process leaves nothing behind either.
 */
export async function startThrowawayPostgres(options: ThrowawayPostgresOptions): Promise<ThrowawayPostgres> {
  const binDir = newestPostgresBinDir();
  const user = postgresOsUser();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-router-auth-'));
  registerDir(dir);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const env = childEnvironment(dir);
  let server: SpawnedProcess | undefined;
  const stop = async (): Promise<void> => {
    await stopPostgres(dataDir);
    if (server) await server.stop(5000);
    forgetDataDir(dataDir);
    fs.rmSync(dir, { recursive: true, force: true });
    forgetDir(dir);
  };
  try {
    giveToPostgres(dir);
    await runCommand(`${binDir}/initdb`, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'], {
      cwd: dir,
      env,
      ...(user ? { user } : {}),
    });
    registerDataDir(dataDir);
    fs.writeFileSync(path.join(dataDir, 'pg_hba.conf'), `${options.hba.join('\n')}\n`);
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: dir,
      fsync: 'off',
      log_connections: 'on',
      ...options.settings,
    };
    if (options.tls) {
      fs.copyFileSync(options.tls.certFile, path.join(dataDir, 'server.crt'));
      fs.copyFileSync(options.tls.keyFile, path.join(dataDir, 'server.key'));
      fs.chmodSync(path.join(dataDir, 'server.key'), 0o600);
      Object.assign(settings, { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' });
    }
    giveToPostgres(dataDir);
    const port = await freePort();
    server = SpawnedProcess.start({
      what: 'postgres (auth test)',
      command: `${binDir}/postgres`,
      args: ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
      logFile,
      cwd: dir,
      env,
      ...(user ? { user } : {}),
      matches: dataDir,
    });
    const sql = async (text: string, values?: unknown[]): Promise<pg.QueryResult> => {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
      await client.connect();
      try {
        return await client.query(text, values);
      } finally {
        await client.end();
      }
    };
    await waitFor('the throwaway postgres to accept connections', () => sql('SELECT 1').then(() => true), {
      timeoutMs: 30_000,
      diagnostics: () => logTail(logFile),
    });
    return { port, dir, logFile, sql, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
