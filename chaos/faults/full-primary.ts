/**
 * A full primary: connections straight to the member (not through the router) until
 * PostgreSQL itself refuses one for lack of room, kept open while the router is asked for one
 * more, then closed.
 */
import pg from 'pg';
import { applicationName } from '../load/application-names.js';

export interface MemberRefusal {
  code?: string;
  message: string;
}

export interface FilledMember {
  connections: number;
  /** What the member said to the first connection it had no room for. */
  refusal?: MemberRefusal;
  release(): Promise<void>;
}

const BATCH = 10;

/**
 * `limit` bounds the attempt (max_connections is 200 on the harness's members): as a
 * non-superuser the fillers leave superuser_reserved_connections to Patroni.
 */
export async function fillMember(member: { host: string; port: number }, user: string, limit = 400): Promise<FilledMember> {
  const open: pg.Client[] = [];
  let refusal: MemberRefusal | undefined;
  while (refusal === undefined && open.length < limit) {
    const batch = await Promise.all(
      Array.from({ length: BATCH }, async () => {
        const client = new pg.Client({
          host: member.host,
          port: member.port,
          user,
          database: 'postgres',
          application_name: applicationName('direct', 'filler'),
          connectionTimeoutMillis: 10_000,
        });
        client.on('error', () => undefined);
        try {
          await client.connect();
          return client;
        } catch (error) {
          const err = error as Error & { code?: string };
          refusal ??= { ...(err.code === undefined ? {} : { code: err.code }), message: err.message };
          return undefined;
        }
      }),
    );
    for (const c of batch) if (c !== undefined) open.push(c);
  }
  return {
    connections: open.length,
    ...(refusal === undefined ? {} : { refusal }),
    release: async () => {
      await Promise.all(open.map((c) => c.end().catch(() => undefined)));
    },
  };
}

export interface RouterAnswer {
  ok: boolean;
  code?: string;
  message?: string;
  ms: number;
}

/** One connection through a listener while the member is full: what the client is told, and how fast. */
export async function askThroughRouter(port: number, user: string, listener: string): Promise<RouterAnswer> {
  const started = Date.now();
  const client = new pg.Client({ host: '127.0.0.1', port, user, database: 'postgres', application_name: applicationName(listener, 'full-check'), connectionTimeoutMillis: 60_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return { ok: true, ms: Date.now() - started };
  } catch (error) {
    const err = error as Error & { code?: string };
    return { ok: false, ...(err.code === undefined ? {} : { code: err.code }), message: err.message, ms: Date.now() - started };
  } finally {
    await client.end().catch(() => undefined);
  }
}
