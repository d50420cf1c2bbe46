import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretSource } from '../../../../../src/proxy/backend/auth/secret-source.js';
import type { BackendConnector } from '../../../../../src/proxy/backend/connector.js';
import { FrontendCode } from '../../../../../src/wire/message-codes.js';
import { clusterStateOf, HandFedFeed } from '../../../../support/hand-fed-feed.js';
import { backend, connectTo, fakePostgres, type ScriptedConnection } from '../../../../support/scripted-postgres.js';
import { MD5, md5Answer, PASSWORD, ROLE, salt } from '../../../../support/auth-role-login.js';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

async function login(connection: ScriptedConnection): Promise<void> {
  await connection.startup();
  connection.send(backend.md5(salt));
  const answer = await connection.message();
  expect(answer.code === FrontendCode.Password && answer.body.toString('latin1') === `${md5Answer}\0`).toBe(true);
  connection.send(backend.ok(), backend.key(42), backend.ready());
}

/** Answers one lookup (Parse/Bind/Execute/Sync) with a row for `user`. */
async function answerLookup(connection: ScriptedConnection, user: string): Promise<void> {
  for (let i = 0; i < 4; i++) await connection.message();
  connection.send(backend.parseComplete(), backend.bindComplete(), backend.dataRow([user, MD5, null, 't', null]), backend.commandComplete('SELECT 1'), backend.ready());
}

function sourceFor(port: number): SecretSource {
  const feed = new HandFedFeed('c1');
  feed.push(clusterStateOf('c1', [{ name: 'pg0', host: '127.0.0.1', port }], 'pg0'));
  const connector = { connect: (address: { port: number }) => connectTo(address.port) } as unknown as BackendConnector;
  const source = new SecretSource(
    feed,
    connector,
    { user: ROLE, password: PASSWORD, database: 'postgres', schema: 'patroni_router', cacheTimeMs: 0, timeoutMs: 2000 },
    pino({ level: 'silent' }),
  );
  cleanups.push(async () => source.close());
  return source;
}

describe('SecretSource', () => {
  it('asks again on a new connection when its connection went away while idle (the member shut down in a switchover)', async () => {
    let connections = 0;
    const server = await fakePostgres(async (connection) => {
      connections++;
      await login(connection);
      if (connections === 1) {
        await answerLookup(connection, 'alice');
        // The member goes away between lookups: the router's connection is closed under it.
        connection.socket.destroy();
        return;
      }
      await answerLookup(connection, 'bob');
    });
    cleanups.push(server.close);
    const source = sourceFor(server.port);
    expect(await source.lookup('alice')).toMatchObject({ usable: true, user: 'alice' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await source.lookup('bob')).toMatchObject({ usable: true, user: 'bob' });
    expect(connections).toBe(2);
    expect(server.errors).toEqual([]);
  });

  it('asks only once more: a member that closes every connection fails the lookup', async () => {
    let connections = 0;
    const server = await fakePostgres(async (connection) => {
      connections++;
      await login(connection);
      await connection.message();
      connection.socket.destroy();
    });
    cleanups.push(server.close);
    await expect(sourceFor(server.port).lookup('alice')).rejects.toMatchObject({ reason: 'closed' });
    expect(connections).toBe(2);
  });
});
