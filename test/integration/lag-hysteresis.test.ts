/**
 * max_lag with hysteresis on a real cluster: replay paused on one replica under heavy writes.
 * The lagging replica takes no new connections at once and loses its idle sessions only once
 * the lag has lasted max_lag_fence_after; the healthy replica keeps every session whatever a
 * single probe sample says; with max_lag_fence_busy false a running query is left to finish.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import { startRouter, type RouterUnderTest } from '../support/router-under-test.js';

const MB = 1024 * 1024;

interface Watched {
  client: pg.Client;
  member: string;
  error?: { code?: string; message: string; at: number };
}

describe('max_lag hysteresis', () => {
  let cluster: PatroniCluster;
  let router: RouterUnderTest;
  let leader: string;
  let behind: string;
  let healthy: string;
  const watched: Watched[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ members: 3 });
    leader = await cluster.waitForHealthy();
    [behind, healthy] = cluster.members.map((m) => m.name).filter((n) => n !== leader) as [string, string];
    router = await startRouter(
      cluster,
      [
        '  - {name: replicas, port: 0, route: replica, max_lag: 4MB, max_lag_fence_after: 3s, max_lag_recovery: 2s}',
        '  - {name: patient, port: 0, route: replica, max_lag: 4MB, max_lag_fence_after: 3s, max_lag_fence_busy: false}',
      ].join('\n'),
      { extraYaml: 'topology: {probe_interval: 200ms}\n' },
    );
    await waitFor('both replicas under 1 MB in the router', () =>
      router.router
        .feeds()
        .get(cluster.scope)
        ?.current()
        ?.members.filter((m) => m.name !== leader)
        .every((m) => m.lagBytes !== undefined && m.lagBytes < MB),
    );
    // A replica that lagged while the cluster started (its first probes) stays out of a listener
    // for max_lag_recovery (10 s on 'patient'): the sessions below need both replicas in.
    await waitFor('no replica held out by either listener for an earlier lag', async () =>
      (await router.router.sessions()).every((l) => Object.keys(l.lagHeld ?? {}).length === 0),
    );
  });

  afterAll(async () => {
    for (const w of watched) await w.client.end().catch(() => undefined);
    await cluster?.sql(behind, 'SELECT pg_wal_replay_resume()').catch(() => undefined);
    await router?.stop();
    await cluster?.stop();
  });

  const portOf = (name: string): number => cluster.member(name).port;

  /** Sessions through `listener` until `perMember` land on each replica. */
  async function sessions(listener: string, perMember: number): Promise<Watched[]> {
    const out: Watched[] = [];
    const count = (m: string): number => out.filter((w) => w.member === m).length;
    for (let i = 0; i < 40 && (count(behind) < perMember || count(healthy) < perMember); i++) {
      const client = new pg.Client(router.connection(listener));
      await client.connect();
      const port = (await client.query<{ port: number }>('SELECT inet_server_port() AS port')).rows[0]!.port;
      const member = port === portOf(behind) ? behind : healthy;
      if (count(member) >= perMember) {
        await client.end();
        continue;
      }
      const w: Watched = { client, member };
      client.on('error', (err: Error & { code?: string }) => (w.error ??= { ...(err.code !== undefined ? { code: err.code } : {}), message: err.message, at: Date.now() }));
      out.push(w);
    }
    watched.push(...out);
    return out;
  }

  it('fences the lagging replica once the lag has lasted, never the healthy one; spares a running query when told', async () => {
    const idle = await sessions('replicas', 3);
    const patient = await sessions('patient', 1);
    const busy = patient.find((w) => w.member === behind)!;
    const running = busy.client.query('SELECT pg_sleep(8) AS done');

    await cluster.pause(); // Patroni would resume a paused replay on its next cycle
    await cluster.sql(behind, 'SELECT pg_wal_replay_pause()');
    const pausedAt = Date.now();
    const writes = (async () => {
      for (let i = 0; i < 20 && Date.now() - pausedAt < 6_000; i++)
        await cluster.sql(leader, "INSERT INTO router_probe(note) SELECT repeat('x', 1000) FROM generate_series(1, 8000)");
    })();
    await waitFor(
      `the router to see ${behind} over 4 MB`,
      () =>
        (router.router
          .feeds()
          .get(cluster.scope)
          ?.current()
          ?.members.find((m) => m.name === behind)?.lagBytes ?? 0) >
        4 * MB,
    );
    const overAt = Date.now();
    // New connections avoid it at once.
    for (let i = 0; i < 4; i++) {
      const c = new pg.Client(router.connection('replicas'));
      await c.connect();
      expect((await c.query<{ port: number }>('SELECT inet_server_port() AS port')).rows[0]!.port).toBe(portOf(healthy));
      await c.end();
    }
    await waitFor(`the idle sessions on ${behind} to be fenced`, () => idle.filter((w) => w.member === behind).every((w) => w.error !== undefined), { timeoutMs: 15_000 });
    const fencedAfterMs = Math.max(...idle.filter((w) => w.member === behind).map((w) => w.error!.at)) - overAt;
    await writes;
    for (const w of idle.filter((x) => x.member === behind)) {
      expect(w.error).toMatchObject({ code: '57P01', message: expect.stringMatching(new RegExp(`${behind} lags [0-9.]+ [kMG]?B, over max_lag 4 MB for [3-9] s`)) });
    }
    // The router saw it over at most a probe interval before the test did.
    expect(fencedAfterMs).toBeGreaterThanOrEqual(2_500);
    expect(fencedAfterMs).toBeLessThan(5_000);
    // The healthy replica's sessions all still work.
    for (const w of idle.filter((x) => x.member === healthy)) {
      expect(w.error).toBeUndefined();
      expect((await w.client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    }
    // max_lag_fence_busy false: the running query finishes (the session may go once it is idle).
    expect((await running).rows[0]).toEqual({ done: '' });
    console.info(`[lag-hysteresis] idle sessions on ${behind} fenced ${fencedAfterMs} ms after the router saw it over max_lag (fence_after 3 s)`);

    await cluster.sql(behind, 'SELECT pg_wal_replay_resume()');
    await cluster.resume();
  });
});
