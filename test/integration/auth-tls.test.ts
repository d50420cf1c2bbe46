import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelBindingVerdict, LIBPQ_CHANNEL_BINDING_REQUIRED } from '../../src/proxy/backend/auth/channel-binding.js';
import { childEnvironment } from '../cluster/os-user.js';
import { forgetDir, registerDir } from '../cluster/process-registry.js';
import { runCommand } from '../cluster/run-command.js';
import { createSelfSignedCert } from '../cluster/tls-cert.js';
import { ObservingRelay } from '../support/observing-relay.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.js';

// Test password only.
const PASSWORD = 'scram-tls-pw-5Qe3';

/**
 * The router terminating the client's TLS and speaking TLS to the member, as with `tls.cert` and
 * `tls.backend.mode: require`. The relay has its own certificate, as the router would.
 */
describe('SCRAM through a TLS-terminating relay to a TLS member (PostgreSQL 15)', () => {
  let postgres: ThrowawayPostgres;
  let relay: ObservingRelay;
  let relayPort: number;
  let certDir: string;

  beforeAll(async () => {
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'patroni-router-auth-tls-'));
    registerDir(certDir);
    const [memberCert, relayCert] = await Promise.all([createSelfSignedCert(path.join(certDir, 'member')), createSelfSignedCert(path.join(certDir, 'relay'))]);
    postgres = await startThrowawayPostgres({
      hba: ['host all postgres 127.0.0.1/32 trust', 'hostssl all all 127.0.0.1/32 scram-sha-256'],
      tls: memberCert,
    });
    await postgres.sql(`CREATE ROLE scramuser LOGIN PASSWORD '${PASSWORD}'`);
    ({ relay, port: relayPort } = await ObservingRelay.start(postgres.port, {
      cert: fs.readFileSync(relayCert.certFile),
      key: fs.readFileSync(relayCert.keyFile),
    }));
  }, 120_000);

  afterAll(async () => {
    await relay?.close();
    await postgres?.stop();
    if (certDir) {
      fs.rmSync(certDir, { recursive: true, force: true });
      forgetDir(certDir);
    }
  });

  async function login(options: { enableChannelBinding: boolean }): Promise<{ code: string | undefined; message: string | undefined }> {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: relayPort,
      user: 'scramuser',
      password: PASSWORD,
      database: 'postgres',
      ssl: { rejectUnauthorized: false },
      enableChannelBinding: options.enableChannelBinding,
    });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return { code: undefined, message: undefined };
    } catch (error) {
      await client.end().catch(() => undefined);
      const failure = error as Error & { code?: string };
      return { code: failure.code, message: failure.message };
    }
  }

  it('works, and yields a key, for a client that does not offer channel binding (flag n)', async () => {
    expect(await login({ enableChannelBinding: false })).toEqual({ code: undefined, message: undefined });
    expect(relay.sessions.at(-1)?.observer.observation).toEqual({ status: 'authenticated' });
  });

  it('is refused by the member as a downgrade when the client could bind but was not offered -PLUS (flag y)', async () => {
    const result = await login({ enableChannelBinding: true });
    expect(result).toEqual({ code: '28000', message: 'SCRAM channel binding negotiation error' });
    expect(relay.sessions.at(-1)?.observer.observation).toMatchObject({ status: 'refused', sqlstate: '28000' });
    expect(channelBindingVerdict({ flag: 'y' }, { tls: true })).toBe('member-will-refuse-downgrade');
  });

  it('is refused the same way for libpq (psql) with its defaults, channel_binding=prefer', async () => {
    const run = (channelBinding: string): Promise<string> =>
      runCommand(
        'psql',
        ['-X', '-At', '-c', 'SELECT current_user', `host=127.0.0.1 port=${relayPort} dbname=postgres user=scramuser sslmode=require channel_binding=${channelBinding}`],
        { cwd: certDir, env: childEnvironment(certDir, { PGPASSWORD: PASSWORD }), timeoutMs: 20_000 },
      );
    const preferred = await run('prefer').catch((error: unknown) => (error as Error).message);
    expect(preferred).toMatch(/SCRAM channel binding negotiation error/);
    expect((await run('disable')).trim()).toBe('scramuser');
    const required = await run('require').catch((error: unknown) => (error as Error).message);
    // The text the router documents for such clients is libpq's own.
    expect(required.includes(LIBPQ_CHANNEL_BINDING_REQUIRED)).toBe(true);
  });
});
