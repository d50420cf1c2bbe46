/**
 * The reason patroni-router exists: a writer through the primary listener during a planned
 * switchover and a leader crash, on a real Patroni cluster, measured against the etcd events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import { KeyClock } from '../support/key-clock.js';
import { startRouter, type RouterUnderTest } from '../support/router-under-test.js';
import { WriteLoop } from '../support/write-loop.js';

const READ_ONLY = '25006';

describe('failover through the primary listener', () => {
  let cluster: PatroniCluster;
  let router: RouterUnderTest;
  let clock: KeyClock;

  beforeAll(async () => {
    cluster = await startCluster({ members: 3 });
    clock = new KeyClock(cluster);
    await clock.start();
    router = await startRouter(cluster, '  - {name: primary, port: 0, route: primary, hold_timeout: 45s}\n  - {name: replicas, port: 0, route: replica}');
    await waitFor('the router to know the primary', () => router.router.ready() && router.router.feeds().get(cluster.scope)?.current()?.writablePrimary);
  });

  afterAll(async () => {
    await router?.stop();
    await clock?.stop();
    await cluster?.stop();
  });

  /** Runs a persistent writer and a fresh-connection writer around `act`, until both write again on `newLeader`. */
  async function writersAround(act: () => Promise<string>): Promise<{ persistent: WriteLoop; fresh: WriteLoop; newLeader: string; since: number }> {
    const persistent = new WriteLoop(router.connection('primary'), 'persistent');
    const fresh = new WriteLoop(router.connection('primary'), 'fresh', 20, 'fresh');
    persistent.start();
    fresh.start();
    await waitFor('writes before the event', () => persistent.successes().length > 20 && fresh.successes().length > 5);
    const since = Date.now();
    const newLeader = await act();
    await waitFor(`${newLeader} to be primary in etcd`, () => clock.becamePrimaryAt(newLeader, since), { timeoutMs: 60_000 });
    const primaryAt = clock.becamePrimaryAt(newLeader, since) ?? 0;
    await waitFor('both writers to write after the new primary', () => persistent.firstSuccessAfter(primaryAt + 200) && fresh.firstSuccessAfter(primaryAt + 200), {
      timeoutMs: 30_000,
    });
    await Promise.all([persistent.stop(), fresh.stop()]);
    return { persistent, fresh, newLeader, since };
  }

  it('a planned switchover: no write reaches a non-primary, new connections see no error, writes resume within 100 ms', async () => {
    const oldLeader = await cluster.waitForHealthy();
    const candidate = cluster.members.find((m) => m.name !== oldLeader)?.name ?? '';
    const { persistent, fresh, since } = await writersAround(async () => {
      await cluster.switchover(candidate);
      return candidate;
    });
    const primaryAt = clock.becamePrimaryAt(candidate, since) ?? 0;
    const readOnly = [...persistent.failures(), ...fresh.failures()].filter((f) => f.code === READ_ONLY);
    expect(readOnly).toEqual([]);
    // Sessions opened once the switchover is requested are held, then routed: none fails.
    // (One already open when the request arrives may be closed, like any existing session.)
    const requestedAt = clock.firstAfter(since, (e) => e.key === 'failover' && e.value.includes(candidate))?.at ?? since;
    expect(fresh.failures().filter((f) => f.startedAt >= requestedAt)).toEqual([]);
    // The persistent writer's old session is fenced (57P01 from the router, or postgres' own shutdown).
    for (const failure of persistent.failures()) expect(['57P01', undefined]).toContain(failure.code);
    const resumed = persistent.firstSuccessAfter(primaryAt);
    const resumeMs = (resumed?.at ?? Infinity) - primaryAt;
    const freshResumeMs = (fresh.firstSuccessAfter(primaryAt)?.at ?? Infinity) - primaryAt;
    console.log(
      `switchover ${oldLeader} -> ${candidate}: persistent writer resumed ${resumeMs} ms, fresh ${freshResumeMs} ms after the member key said master; failures: ${persistent
        .failures()
        .map((f) => f.code ?? f.message)
        .join(', ')}`,
    );
    expect(resumeMs).toBeLessThanOrEqual(100);
    expect(freshResumeMs).toBeLessThanOrEqual(100);
    // Every write the router accepted landed on the primary of its moment: none was lost.
    const landed = Number(await cluster.sql(candidate, "SELECT count(*) FROM router_probe WHERE note IN ('persistent', 'fresh')"));
    await waitFor('the count to settle', () => landed >= persistent.successes().length + fresh.successes().length);
  });

  it('a crash of the leader: the writer is held, then resumes within 100 ms of the new primary', async () => {
    await cluster.waitForHealthy();
    let crashed = '';
    let crashedAt = 0;
    const { persistent, fresh, newLeader, since } = await writersAround(async () => {
      crashed = await cluster.crashLeader();
      crashedAt = Date.now();
      return waitFor(
        'a new leader',
        async () => {
          const leader = await cluster.leader();
          return leader !== undefined && leader !== crashed ? leader : undefined;
        },
        { timeoutMs: (cluster.ttl + cluster.loopWait) * 1000 + 15_000 },
      );
    });
    const primaryAt = clock.becamePrimaryAt(newLeader, since) ?? 0;
    expect([...persistent.failures(), ...fresh.failures()].filter((f) => f.code === READ_ONLY)).toEqual([]);
    // Connections opened after the crash wait for the new primary instead of failing.
    expect(fresh.failures().filter((f) => f.startedAt >= crashedAt)).toEqual([]);
    const resumeMs = (persistent.firstSuccessAfter(primaryAt)?.at ?? Infinity) - primaryAt;
    const freshResumeMs = (fresh.firstSuccessAfter(primaryAt)?.at ?? Infinity) - primaryAt;
    console.log(
      `crash of ${crashed}: new primary ${newLeader} ${primaryAt - since} ms after the kill; writers resumed ${resumeMs} ms / ${freshResumeMs} ms after its member key said master`,
    );
    expect(resumeMs).toBeLessThanOrEqual(100);
    expect(freshResumeMs).toBeLessThanOrEqual(100);
    await cluster.startMember(crashed);
    await cluster.waitForHealthy({ timeoutMs: 120_000 });
  });
});
