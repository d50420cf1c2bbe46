/**
 * Limits on a real cluster: a member that has no room (a role's CONNECTION LIMIT) is answered
 * at once with its own 53300, with no storm of attempts; a listener's maxconn queues the surplus
 * so the member never holds more than maxconn of its sessions.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import { RecordingEvents } from '../support/recording-events.js';
import { startRouter, type RouterUnderTest } from '../support/router-under-test.js';

describe('connection limits against a real cluster', () => {
  let cluster: PatroniCluster;
  let router: RouterUnderTest;
  let leader: string;
  const events = new RecordingEvents();

  beforeAll(async () => {
    cluster = await startCluster({ members: 2 });
    leader = await cluster.waitForHealthy();
    await cluster.sql(leader, 'CREATE ROLE limited LOGIN CONNECTION LIMIT 2');
    router = await startRouter(
      cluster,
      ['  - {name: primary, port: 0, route: primary, hold_timeout: 20s}', '  - {name: queued, port: 0, route: primary, maxconn: 3, queue_timeout: 20s}'].join('\n'),
      { events: [events] },
    );
    await waitFor('the router to know the primary', () => router.router.feeds().get(cluster.scope)?.current()?.writablePrimary === leader);
  });

  afterAll(async () => {
    await router?.stop();
    await cluster?.stop();
  });

  it("answers a role over its CONNECTION LIMIT with PostgreSQL's own 53300 at once, after one attempt", async () => {
    const held = await Promise.all(
      [0, 1].map(async () => {
        const c = new pg.Client(router.connection('primary', { user: 'limited' }));
        await c.connect();
        return c;
      }),
    );
    const attemptsBefore = events.of('sessionStarted').length;
    const started = Date.now();
    const extra = new pg.Client(router.connection('primary', { user: 'limited' }));
    extra.on('error', () => {});
    const err = (await extra.connect().catch((e: unknown) => e)) as { code?: string; message: string };
    const tookMs = Date.now() - started;
    expect(err).toMatchObject({ code: '53300', message: 'too many connections for role "limited"' });
    expect(tookMs).toBeLessThan(2_000);
    expect(events.of('refused').at(-1)).toMatchObject({ kind: 'member_full', sqlstate: '53300' });
    // One connection attempt, not a storm (the session counts once, at its first backend).
    expect(events.of('sessionStarted').length - attemptsBefore).toBe(1);
    console.info(`[connection-limits] 53300 for a role at its CONNECTION LIMIT after ${tookMs} ms`);
    await Promise.all(held.map((c) => c.end()));
  });

  it('maxconn 3: eight clients at once all get served, never more than three at a time on the member', async () => {
    let peak = 0;
    const watching = setInterval(() => {
      cluster
        .sql(leader, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'maxconn-test'")
        .then((n) => (peak = Math.max(peak, Number(n))))
        .catch(() => undefined);
    }, 50);
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const c = new pg.Client(router.connection('queued', { application_name: 'maxconn-test' }));
          await c.connect();
          await c.query('SELECT pg_sleep(0.4)');
          await c.end();
          return 'ok';
        }),
      );
      expect(results).toEqual(Array(8).fill('ok'));
    } finally {
      clearInterval(watching);
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(3);
  });
});
