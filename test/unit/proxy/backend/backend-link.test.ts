import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendLink } from '../../../../src/proxy/backend/backend-link.js';
import { connectTcp, type BackendConnector } from '../../../../src/proxy/backend/connector.js';
import { TrustSessionSecret } from '../../../../src/proxy/backend/auth/session-secret.js';
import type { Member } from '../../../../src/topology/cluster-state.js';
import { FrontendCode } from '../../../../src/wire/message-codes.js';
import { backend, fakePostgres } from '../../../support/scripted-postgres.js';
import { rowDescription } from '../../../support/test-buffers.js';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

/** A member that logs anyone in (trust) and answers every simple query with one row. */
async function answeringMember(): Promise<Member> {
  const server = await fakePostgres(async (connection) => {
    await connection.startup();
    connection.send(backend.ok(), backend.parameter('server_version', '15.0'), backend.key(7), backend.ready());
    for (;;) {
      const frame = await connection.message().catch(() => undefined);
      if (frame === undefined || frame.code !== FrontendCode.Query) return;
      connection.send(rowDescription(['lsn']), backend.dataRow(['0/3000060']), backend.commandComplete('SELECT 1'), backend.ready());
    }
  });
  cleanups.push(server.close);
  return { name: 'pg1', host: '127.0.0.1', port: server.port } as Member;
}

describe('BackendLink.query', () => {
  it('lets go of every message it read, so a link polled for hours holds none of them', async () => {
    const member = await answeringMember();
    const chunks: Buffer[] = [];
    const connector: BackendConnector = {
      connect: async (address, timeoutMs) => {
        const socket: net.Socket = await connectTcp(address, timeoutMs);
        // Before the link's reader: the chunks it reads are these same buffers.
        socket.prependListener('data', (chunk: Buffer) => chunks.push(chunk));
        return socket;
      },
      connectRaw: () => Promise.reject(new Error('not used')),
      connectForTls: () => Promise.reject(new Error('not used')),
    };
    const link = await BackendLink.open(member, { connector, parameters: { user: 'router', database: 'postgres' }, secret: new TrustSessionSecret(), timeoutMs: 2000 });
    cleanups.push(async () => link.close());
    const loginChunks = chunks.length;
    for (let i = 0; i < 50; i++) expect(await link.query('SELECT pg_catalog.pg_last_wal_replay_lsn()::text')).toEqual({ rows: [['0/3000060']] });
    const answers = chunks.slice(loginChunks);
    expect(answers.length).toBeGreaterThanOrEqual(1);
    // Released frames are zero-filled; a frame still held would keep its bytes.
    expect(answers.filter((c) => c.some((b) => b !== 0))).toEqual([]);
  });
});
