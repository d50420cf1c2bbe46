import { afterEach, describe, expect, it } from 'vitest';
import { authQueryText } from '../../../../../src/proxy/backend/auth/auth-query.js';
import { AuthQueryClient, AuthQueryError, type AuthQueryClientOptions } from '../../../../../src/proxy/backend/auth/auth-query-client.js';
import { Md5Hash } from '../../../../../src/proxy/backend/auth/md5-password.js';
import { PasswordSessionSecret, TrustSessionSecret } from '../../../../../src/proxy/backend/auth/session-secret.js';
import { FrontendCode } from '../../../../../src/wire/message-codes.js';
import { backend, connectTo, fakePostgres, type ScriptedConnection } from '../../../../support/scripted-postgres.js';
import { MD5, md5Answer, PASSWORD, ROLE, salt } from '../../../../support/auth-role-login.js';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

function options(extra: Partial<AuthQueryClientOptions> = {}): AuthQueryClientOptions {
  return { authRole: ROLE, secret: new PasswordSessionSecret(PASSWORD), database: 'postgres', timeoutMs: 2000, ...extra };
}

/** Logs the auth role in with md5, checking what the client sent. */
async function md5Login(connection: ScriptedConnection, seen: { startup?: Record<string, string> }): Promise<void> {
  seen.startup = await connection.startup();
  connection.send(backend.md5(salt));
  const answer = await connection.message();
  if (answer.code !== FrontendCode.Password || answer.body.toString('latin1') !== `${md5Answer}\0`) {
    connection.send(backend.error('28P01', `password authentication failed for user "${ROLE}"`));
    return;
  }
  connection.send(backend.ok(), backend.parameter('server_version', '15.0'), backend.key(42), backend.ready());
}

/** Reads Parse/Bind/Execute/Sync and returns the query text, parameter types and values. */
async function readLookup(connection: ScriptedConnection): Promise<{ text: string; types: number[]; values: string[] }> {
  const parse = await connection.message();
  const bind = await connection.message();
  const execute = await connection.message();
  const sync = await connection.message();
  expect([parse.code, bind.code, execute.code, sync.code]).toEqual([FrontendCode.Parse, FrontendCode.Bind, FrontendCode.Execute, FrontendCode.Sync]);
  const nameEnd = parse.body.indexOf(0);
  const textEnd = parse.body.indexOf(0, nameEnd + 1);
  const text = parse.body.toString('utf8', nameEnd + 1, textEnd);
  const typeCount = parse.body.readInt16BE(textEnd + 1);
  const types = Array.from({ length: typeCount }, (_, i) => parse.body.readInt32BE(textEnd + 3 + 4 * i));
  let offset = bind.body.indexOf(0, bind.body.indexOf(0) + 1) + 1;
  const formats = bind.body.readInt16BE(offset);
  offset += 2 + 2 * formats;
  const count = bind.body.readInt16BE(offset);
  offset += 2;
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = bind.body.readInt32BE(offset);
    values.push(bind.body.toString('utf8', offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return { text, types, values };
}

async function serve(script: (connection: ScriptedConnection) => Promise<void>) {
  const server = await fakePostgres(script);
  cleanups.push(server.close);
  return server;
}

describe('AuthQueryClient', () => {
  it('logs in with md5, sends the fixed query with the user as a name parameter, reads the secret', async () => {
    const seen: { startup?: Record<string, string>; lookup?: Awaited<ReturnType<typeof readLookup>> } = {};
    const server = await serve(async (connection) => {
      await md5Login(connection, seen);
      seen.lookup = await readLookup(connection);
      connection.send(backend.parseComplete(), backend.bindComplete(), backend.dataRow(["o'hara; --", MD5, null, 't', null]), backend.commandComplete('SELECT 1'), backend.ready());
    });
    const client = await AuthQueryClient.connect(await connectTo(server.port), options());
    const result = await client.lookup("o'hara; --");
    expect(seen.startup).toEqual({ user: ROLE, database: 'postgres', application_name: 'patroni-router auth_query', client_encoding: 'UTF8' });
    expect(seen.lookup).toEqual({ text: authQueryText(), types: [19], values: ["o'hara; --"] });
    expect(result.usable && result.secret instanceof Md5Hash).toBe(true);
    client.close();
    expect(server.errors).toEqual([]);
  });

  it('logs in with trust and serves several lookups in order on one connection', async () => {
    const server = await serve(async (connection) => {
      await connection.startup();
      connection.send(backend.ok(), backend.ready());
      for (const user of ['a', 'b']) {
        const lookup = await readLookup(connection);
        expect(lookup.values).toEqual([user]);
        connection.send(backend.parseComplete(), backend.bindComplete(), backend.commandComplete('SELECT 0'), backend.ready());
      }
    });
    const client = await AuthQueryClient.connect(await connectTo(server.port), options({ secret: new TrustSessionSecret() }));
    const [a, b] = await Promise.all([client.lookup('a'), client.lookup('b')]);
    expect([a, b]).toMatchObject([
      { usable: false, reason: 'not-found' },
      { usable: false, reason: 'not-found' },
    ]);
    client.close();
  });

  it('reports a refused login with the role and the SQLSTATE, never the password', async () => {
    const server = await serve(async (connection) => {
      await connection.startup();
      connection.send(backend.md5(salt));
      await connection.message();
      connection.send(backend.error('28P01', `password authentication failed for user "${ROLE}"`));
    });
    const error = await AuthQueryClient.connect(await connectTo(server.port), options({ secret: new PasswordSessionSecret('wrong') })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthQueryError);
    const failure = error as AuthQueryError;
    expect(failure.reason).toBe('login');
    expect(failure.sqlstate).toBe('28P01');
    expect(failure.message).toMatch(/^auth_query as role "patroni_router_auth": the server refused the login: 28P01/);
    expect(failure.message.includes('wrong')).toBe(false);
  });

  it('refuses to send a password the server asks for in a way the role cannot answer', async () => {
    const server = await serve(async (connection) => {
      await connection.startup();
      connection.send(backend.md5(salt));
    });
    const error = (await AuthQueryClient.connect(await connectTo(server.port), options({ secret: new TrustSessionSecret() })).catch((e: unknown) => e)) as AuthQueryError;
    expect(error.reason).toBe('login');
    expect(error.message).toMatch(/asks for md5, but the router holds no secret/);
  });

  it('times out a login that never finishes', async () => {
    const server = await serve(async (connection) => {
      await connection.startup();
    });
    const started = Date.now();
    const error = (await AuthQueryClient.connect(await connectTo(server.port), options({ timeoutMs: 200 })).catch((e: unknown) => e)) as AuthQueryError;
    expect(error.reason).toBe('timeout');
    expect(error.message).toMatch(/did not finish within 200 ms/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('keeps the connection after a failed query, and drops it after a timeout', async () => {
    const seen = {};
    const server = await serve(async (connection) => {
      await md5Login(connection, seen);
      await readLookup(connection);
      connection.send(backend.error('42883', 'function patroni_router.user_secret(name) does not exist'), backend.ready());
      await readLookup(connection);
      connection.send(backend.parseComplete(), backend.bindComplete(), backend.dataRow(['x', MD5, null, 'f', null]), backend.commandComplete('SELECT 1'), backend.ready());
      await readLookup(connection); // and never answer
    });
    const client = await AuthQueryClient.connect(await connectTo(server.port), options({ timeoutMs: 300 }));
    const failed = (await client.lookup('x').catch((e: unknown) => e)) as AuthQueryError;
    expect(failed).toMatchObject({ reason: 'query', sqlstate: '42883' });
    expect(client.usable).toBe(true);
    expect(await client.lookup('x')).toMatchObject({ usable: false, reason: 'no-login' });
    const timedOut = (await client.lookup('x').catch((e: unknown) => e)) as AuthQueryError;
    expect(timedOut.reason).toBe('timeout');
    expect(client.usable).toBe(false);
    expect(((await client.lookup('x').catch((e: unknown) => e)) as AuthQueryError).reason).toBe('timeout');
  });

  it('settles a lookup in flight when the client is closed', async () => {
    const server = await serve(async (connection) => {
      await md5Login(connection, {});
      await readLookup(connection);
    });
    const client = await AuthQueryClient.connect(await connectTo(server.port), options({ timeoutMs: 5000 }));
    const pending = client.lookup('x').catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.close();
    expect(((await pending) as AuthQueryError).reason).toBe('closed');
    expect(client.usable).toBe(false);
  });

  // A switchover restarts the old primary: its FIN must not sit in CLOSE_WAIT until the next
  // login, which would then fail on the dead connection instead of opening a new one.
  it('lets go of a connection the server closed between lookups, and says it is not usable', async () => {
    const server = await serve(async (connection) => {
      await md5Login(connection, {});
      connection.socket.end();
    });
    const socket = await connectTo(server.port);
    const client = await AuthQueryClient.connect(socket, options());
    await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
    expect(client.usable).toBe(false);
    expect(((await client.lookup('x').catch((e: unknown) => e)) as AuthQueryError).reason).toBe('closed');
  });

  it('reports a server that goes away mid-lookup', async () => {
    const server = await serve(async (connection) => {
      await md5Login(connection, {});
      await readLookup(connection);
      connection.socket.destroy();
    });
    const client = await AuthQueryClient.connect(await connectTo(server.port), options());
    const error = (await client.lookup('x').catch((e: unknown) => e)) as AuthQueryError;
    expect(error.reason).toBe('closed');
    expect(error.message).toMatch(/^auth_query as role "patroni_router_auth": /);
  });
});
