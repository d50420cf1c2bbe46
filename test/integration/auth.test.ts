import fs from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthQueryClient, type AuthQueryClientOptions } from '../../src/proxy/backend/auth/auth-query-client.js';
import { authFunctionSignature, authHbaLine, authSetupSql } from '../../src/proxy/backend/auth/auth-setup.js';
import { HandshakeError, performBackendHandshake } from '../../src/proxy/backend/auth/backend-handshake.js';
import { Md5Hash } from '../../src/proxy/backend/auth/md5-password.js';
import { ScramVerifier } from '../../src/proxy/backend/auth/scram-verifier.js';
import { Md5SessionSecret, PasswordSessionSecret, TrustSessionSecret, type SessionSecret } from '../../src/proxy/backend/auth/session-secret.js';
import type { ServerMessages } from '../../src/proxy/backend/message-stream.js';
import { BackendCode } from '../../src/wire/message-codes.js';
import { parseError } from '../../src/wire/parser.js';
import { ObservingRelay } from '../support/observing-relay.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.js';

// Test passwords only; the server and its directory are removed afterwards.
const AUTH_ROLE = 'router_auth';
const AUTH_PASSWORD = 'auth-role-pw-4Hk2';
const SCRAM_PASSWORD = 'scram-user-pw-8Jd1';
const MD5_PASSWORD = 'md5-user-pw-2Lx7';

let postgres: ThrowawayPostgres;

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

async function authQuery(options: Partial<AuthQueryClientOptions> = {}): Promise<AuthQueryClient> {
  return AuthQueryClient.connect(await connect(postgres.port), {
    authRole: AUTH_ROLE,
    secret: new PasswordSessionSecret(AUTH_PASSWORD),
    database: 'postgres',
    timeoutMs: 5000,
    ...options,
  });
}

/** A separate connection to the server as `user`, logged in with only what the session holds. */
async function loginAs(user: string, secret: SessionSecret): Promise<{ socket: net.Socket; messages: ServerMessages }> {
  const socket = await connect(postgres.port);
  const handshake = await performBackendHandshake(socket, {
    parameters: { user, database: 'postgres', application_name: 'patroni-router auth test' },
    secret,
    timeoutMs: 5000,
    who: `user "${user}"`,
  });
  return { socket, messages: handshake.messages };
}

/** A simple query on a logged-in connection; the first column of each row. */
async function firstColumn(socket: net.Socket, messages: ServerMessages, sql: string): Promise<Array<string | null>> {
  socket.write(serialize.query(sql));
  const values: Array<string | null> = [];
  for (;;) {
    const frame = await messages.next();
    if (frame.code === BackendCode.ErrorResponse) throw new Error(parseError(frame.body).message);
    if (frame.code === BackendCode.DataRow) {
      const length = frame.body.readInt32BE(2);
      values.push(length < 0 ? null : frame.body.toString('utf8', 6, 6 + length));
    }
    if (frame.code === BackendCode.ReadyForQuery) return values;
  }
}

function terminate(socket: net.Socket, messages: ServerMessages): void {
  messages.release();
  socket.end(serialize.end());
}

beforeAll(async () => {
  postgres = await startThrowawayPostgres({
    hba: [
      'host  all  postgres              127.0.0.1/32  trust',
      'host  all  router_auth_trust     127.0.0.1/32  trust',
      'host  all  md5user,router_auth_md5  127.0.0.1/32  md5',
      authHbaLine({ database: 'postgres', address: '127.0.0.1/32', connection: 'host', authRole: AUTH_ROLE }),
      'host  all  all                   127.0.0.1/32  scram-sha-256',
    ],
  });
  await postgres.sql(authSetupSql({ authRole: AUTH_ROLE }));
  // The setup is safe to run twice.
  await postgres.sql(authSetupSql({ authRole: AUTH_ROLE }));
  await postgres.sql(`
    ALTER ROLE ${AUTH_ROLE} PASSWORD '${AUTH_PASSWORD}';
    CREATE ROLE scramuser LOGIN PASSWORD '${SCRAM_PASSWORD}';
    SET password_encryption = 'md5';
    CREATE ROLE md5user LOGIN PASSWORD '${MD5_PASSWORD}';
    CREATE ROLE router_auth_md5 LOGIN PASSWORD '${AUTH_PASSWORD}';
    RESET password_encryption;
    CREATE ROLE expireduser LOGIN PASSWORD 'expired-pw' VALID UNTIL '2001-01-01';
    CREATE ROLE futureuser LOGIN PASSWORD 'future-pw' VALID UNTIL 'infinity';
    CREATE ROLE nologinuser NOLOGIN PASSWORD 'nologin-pw';
    CREATE ROLE nopassworduser LOGIN;
    CREATE ROLE router_auth_trust LOGIN;
    GRANT USAGE ON SCHEMA patroni_router TO router_auth_md5, router_auth_trust;
    GRANT EXECUTE ON FUNCTION ${authFunctionSignature()} TO router_auth_md5, router_auth_trust;
    -- PgBouncer CVE-2025-12819's shape: a look-alike function earlier in the auth role's search_path.
    CREATE SCHEMA evil;
    CREATE FUNCTION evil.user_secret(p_user name)
      RETURNS TABLE (username name, secret text, valid_until timestamptz, can_login boolean, expires_in double precision)
      LANGUAGE sql AS $$ SELECT p_user, 'md5' || repeat('0', 32), NULL::timestamptz, true, NULL::float8 $$;
    GRANT USAGE ON SCHEMA evil TO PUBLIC;
    ALTER ROLE ${AUTH_ROLE} SET search_path = evil, public;
  `);
}, 120_000);

afterAll(async () => {
  await postgres?.stop();
});

describe('auth_query against PostgreSQL 15', () => {
  it('gives the auth role, and nobody else, EXECUTE on the function', async () => {
    const { rows } = await postgres.sql(`SELECT r AS role, has_function_privilege(r, $1, 'EXECUTE') AS can FROM unnest(ARRAY['public', $2, 'scramuser', 'md5user']) AS r`, [
      authFunctionSignature(),
      AUTH_ROLE,
    ]);
    expect(rows).toEqual([
      { role: 'public', can: false },
      { role: AUTH_ROLE, can: true },
      { role: 'scramuser', can: false },
      { role: 'md5user', can: false },
    ]);
    const owner = await postgres.sql(`SELECT r.rolsuper FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'patroni_router'`);
    expect(owner.rows).toEqual([{ rolsuper: true }]);
    const client = new pg.Client({ host: '127.0.0.1', port: postgres.port, user: 'scramuser', password: SCRAM_PASSWORD, database: 'postgres' });
    await client.connect();
    try {
      await expect(client.query(`SELECT * FROM patroni_router.user_secret('postgres')`)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  });

  it('reads a SCRAM verifier and an md5 hash, logged in as the auth role with SCRAM, md5 and trust', async () => {
    for (const [authRole, secret] of [
      [AUTH_ROLE, new PasswordSessionSecret(AUTH_PASSWORD)],
      ['router_auth_md5', new PasswordSessionSecret(AUTH_PASSWORD)],
      ['router_auth_trust', new TrustSessionSecret()],
    ] as const) {
      const client = await authQuery({ authRole, secret });
      try {
        const scram = await client.lookup('scramuser');
        expect(scram.usable && scram.secret instanceof ScramVerifier && scram.secret.iterations === 4096).toBe(true);
        const md5 = await client.lookup('md5user');
        expect(md5.usable && md5.secret instanceof Md5Hash).toBe(true);
        expect(await client.lookup('futureuser')).toMatchObject({ usable: true, expiresInSeconds: null });
      } finally {
        client.close();
      }
    }
  });

  it('reports expired, NOLOGIN, password-less, unknown and superuser roles as unusable', async () => {
    const client = await authQuery();
    try {
      expect(await client.lookup('expireduser')).toMatchObject({ usable: false, reason: 'expired' });
      expect(await client.lookup('nologinuser')).toMatchObject({ usable: false, reason: 'no-login' });
      expect(await client.lookup('nopassworduser')).toMatchObject({ usable: false, reason: 'no-password' });
      expect(await client.lookup('ghost')).toMatchObject({ usable: false, reason: 'not-found' });
      expect(await client.lookup('postgres')).toMatchObject({ usable: false, reason: 'not-found' });
      expect(await client.lookup("x'); SELECT pg_sleep(10); --")).toMatchObject({ usable: false, reason: 'not-found' });
    } finally {
      client.close();
    }
  });

  it('is not steered by a look-alike function on the auth role’s search_path', async () => {
    // The trap is live: an unqualified call, as the auth role, reaches the look-alike.
    const naive = new pg.Client({ host: '127.0.0.1', port: postgres.port, user: AUTH_ROLE, password: AUTH_PASSWORD, database: 'postgres' });
    await naive.connect();
    try {
      const { rows } = await naive.query<{ secret: string }>(`SELECT secret FROM user_secret('md5user')`);
      expect(rows[0]?.secret).toBe(`md5${'0'.repeat(32)}`);
    } finally {
      await naive.end();
    }
    const client = await authQuery();
    try {
      const md5 = await client.lookup('md5user');
      if (!md5.usable || !(md5.secret instanceof Md5Hash)) throw new Error('expected the md5 hash');
      expect(md5.secret.hex.every((byte) => byte === 0x30)).toBe(false);
    } finally {
      client.close();
    }
  });

  it('names the auth role, and not its password, when the password is wrong', async () => {
    const error = (await authQuery({ secret: new PasswordSessionSecret('not-the-password') }).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ reason: 'login', sqlstate: '28P01' });
    expect(error.message).toMatch(/^auth_query as role "router_auth": the server refused the login: 28P01 password authentication failed for user "router_auth"$/);
    expect(error.message.includes('not-the-password')).toBe(false);
  });
});

describe('SCRAM relay and extract against PostgreSQL 15', () => {
  let relay: ObservingRelay;
  let relayPort: number;

  beforeAll(async () => {
    ({ relay, port: relayPort } = await ObservingRelay.start(postgres.port));
  });
  afterAll(async () => {
    await relay?.close();
  });

  async function throughRelay(user: string, password: string): Promise<{ current: string | undefined; error: (Error & { code?: string }) | undefined }> {
    const client = new pg.Client({ host: '127.0.0.1', port: relayPort, user, password, database: 'postgres' });
    try {
      await client.connect();
      const { rows } = await client.query<{ current_user: string }>('SELECT current_user');
      await client.end();
      return { current: rows[0]?.current_user, error: undefined };
    } catch (error) {
      await client.end().catch(() => undefined);
      return { current: undefined, error: error as Error & { code?: string } };
    }
  }

  it('derives the ClientKey from a real node-postgres login and logs in elsewhere with it alone', async () => {
    const scramLogins = (): number => fs.readFileSync(postgres.logFile, 'utf8').match(/connection authenticated: identity="scramuser" method=scram-sha-256/g)?.length ?? 0;
    const before = scramLogins();
    const relayed = await throughRelay('scramuser', SCRAM_PASSWORD);
    expect(relayed).toEqual({ current: 'scramuser', error: undefined });
    const session = relay.sessions.at(-1);
    expect(session?.observer.observation).toEqual({ status: 'authenticated' });

    const lookups = await authQuery();
    const found = await lookups.lookup('scramuser');
    lookups.close();
    if (!found.usable || !(found.secret instanceof ScramVerifier)) throw new Error('expected a SCRAM verifier');
    const extraction = session?.observer.extract(found.secret);
    found.secret.wipe();
    if (!extraction?.ok) throw new Error(`no ClientKey: ${extraction?.detail}`);
    const secret = extraction.secret;

    const { socket, messages } = await loginAs('scramuser', secret);
    expect(await firstColumn(socket, messages, 'SELECT current_user')).toEqual(['scramuser']);
    expect(await firstColumn(socket, messages, 'SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()')).toEqual(['patroni-router auth test']);
    terminate(socket, messages);
    // PostgreSQL judged both logins, the relayed one and the ClientKey one, with SCRAM.
    expect(scramLogins() - before).toBe(2);

    // Measured: a login with the ClientKey (TCP connect, startup, SCRAM, ReadyForQuery), against
    // node-postgres logging in with the password (which runs PBKDF2 itself).
    const timings = { clientKey: [] as number[], password: [] as number[] };
    for (let i = 0; i < 50; i++) {
      let started = performance.now();
      const link = await loginAs('scramuser', secret);
      timings.clientKey.push(performance.now() - started);
      terminate(link.socket, link.messages);
      started = performance.now();
      const client = new pg.Client({ host: '127.0.0.1', port: postgres.port, user: 'scramuser', password: SCRAM_PASSWORD, database: 'postgres' });
      await client.connect();
      timings.password.push(performance.now() - started);
      await client.end();
    }
    const describe = (values: number[]): string => {
      const sorted = [...values].sort((a, b) => a - b);
      const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
      return `median ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms`;
    };
    console.log(`[auth] ClientKey login (n=50): ${describe(timings.clientKey)}; node-postgres password login: ${describe(timings.password)}`);
    secret.wipe();
  });

  it('logs in with the md5 hash fetched by the auth query; the relayed md5 login yields no SCRAM key', async () => {
    expect(await throughRelay('md5user', MD5_PASSWORD)).toEqual({ current: 'md5user', error: undefined });
    expect(relay.sessions.at(-1)?.observer.observation).toMatchObject({ status: 'not-extractable', reason: 'not-scram' });
    const lookups = await authQuery({ authRole: 'router_auth_md5' });
    const found = await lookups.lookup('md5user');
    lookups.close();
    if (!found.usable || !(found.secret instanceof Md5Hash)) throw new Error('expected an md5 hash');
    const secret = new Md5SessionSecret(found.secret);
    found.secret.wipe();
    const { socket, messages } = await loginAs('md5user', secret);
    expect(await firstColumn(socket, messages, 'SELECT current_user')).toEqual(['md5user']);
    terminate(socket, messages);
    secret.wipe();
  });

  it('lets the server’s own 28P01 reach a client with a wrong password, and derives nothing', async () => {
    const relayed = await throughRelay('scramuser', 'wrong-password');
    expect(relayed.current).toBeUndefined();
    expect(relayed.error?.code).toBe('28P01');
    expect(relayed.error?.message).toBe('password authentication failed for user "scramuser"');
    const observer = relay.sessions.at(-1)?.observer;
    expect(observer?.observation).toMatchObject({ status: 'refused', sqlstate: '28P01' });
    const lookups = await authQuery();
    const found = await lookups.lookup('scramuser');
    lookups.close();
    if (!found.usable || !(found.secret instanceof ScramVerifier)) throw new Error('expected a SCRAM verifier');
    expect(observer?.extract(found.secret)).toMatchObject({ ok: false, reason: 'not-authenticated' });
  });

  it('stops before sending a proof once the password changed, and the server still judges', async () => {
    await throughRelay('scramuser', SCRAM_PASSWORD);
    const session = relay.sessions.at(-1);
    const lookups = await authQuery();
    const found = await lookups.lookup('scramuser');
    if (!found.usable || !(found.secret instanceof ScramVerifier)) throw new Error('expected a SCRAM verifier');
    const extraction = session?.observer.extract(found.secret);
    if (!extraction?.ok) throw new Error('no ClientKey');
    await postgres.sql(`ALTER ROLE scramuser PASSWORD 'changed-pw-1'`);
    try {
      const error = await loginAs('scramuser', extraction.secret).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HandshakeError);
      expect((error as HandshakeError).reason).toBe('scram-other-verifier');
      // The old verifier no longer matches what a new relayed login shows the observer.
      const changed = await lookups.lookup('scramuser');
      expect(changed.usable && changed.secret instanceof ScramVerifier && !changed.secret.salt.equals(found.secret.salt)).toBe(true);
    } finally {
      lookups.close();
      await postgres.sql(`ALTER ROLE scramuser PASSWORD '${SCRAM_PASSWORD}'`);
      extraction.secret.wipe();
    }
  });
});
