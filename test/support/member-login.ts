/**
 * Logging in to one member over TCP as a client would: node-postgres for password checks (a
 * plain startup, so it works whether or not the member serves TLS), psql for libpq's sslmode.
 */
import pg from 'pg';
import type { ClusterMember } from '../cluster/index.js';
import { credentials, newestPostgresBinDir } from '../cluster/index.js';
import { childEnvironment } from '../cluster/os-user.js';
import { runCommand } from '../cluster/run-command.js';

/** Logs in, returns current_user; rejects with PostgreSQL's error (code 28P01 for a wrong password). */
export async function loginAs(member: ClusterMember, user: string, password?: string): Promise<string> {
  const client = new pg.Client({
    host: member.host,
    port: member.port,
    user,
    database: 'postgres',
    ssl: false,
    connectionTimeoutMillis: 5000,
    // node-postgres asks for a password only when the server does; '' would be sent as is.
    ...(password === undefined ? {} : { password }),
  });
  client.on('error', () => {
    // a refused login rejects connect(); nothing else to report
  });
  await client.connect();
  try {
    const result = await client.query<{ current_user: string }>('SELECT current_user');
    return result.rows[0]?.current_user ?? '';
  } finally {
    await client.end();
  }
}

/** The SQLSTATE of a failed login, or 'logged in' when it succeeds. */
export async function loginOutcome(member: ClusterMember, user: string, password?: string): Promise<string> {
  try {
    await loginAs(member, user, password);
    return 'logged in';
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  }
}

/** psql over TCP with a libpq sslmode; the query's output, or rejects with psql's message. */
export function psqlOverTcp(member: ClusterMember, sslmode: string, query: string, dir: string): Promise<string> {
  return runCommand(`${newestPostgresBinDir()}/psql`, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', query], {
    cwd: dir,
    // trust or the superuser's password, whichever the shape asks for
    env: childEnvironment(dir, {
      PGHOST: member.host,
      PGPORT: String(member.port),
      PGUSER: credentials.superuser.user,
      PGDATABASE: 'postgres',
      PGPASSWORD: credentials.superuser.password,
      PGSSLMODE: sslmode,
      PGCONNECT_TIMEOUT: '5',
    }),
    timeoutMs: 15_000,
  }).then((out) => out.trim());
}
