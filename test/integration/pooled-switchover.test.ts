/**
 * Long-lived pooled clients through planned switchovers and a leader crash, on Patroni 3.0.2
 * and 4.0.7: a pg.Pool of 5 connections and, beside it in the same rounds, a Java application
 * with 5 pgjdbc connections (PgjdbcWriter.java: plain JDBC, autocommit, sslmode=disable,
 * reconnecting after an error), each writing every 10 ms through the primary listener. Every
 * client error is counted by who caused it. The router must never close a session on a member
 * that is, and stays, the primary, and no write may reach a read-only server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type PatroniCluster, type PatroniMajor } from '../cluster/index.js';
import type { ErrorCause } from '../support/client-error-cause.js';
import { PgjdbcWriter } from '../support/pgjdbc-writer.js';
import { PoolWriter, type PoolWrite } from '../support/pool-writer.js';
import { startRouter, type RouterUnderTest } from '../support/router-under-test.js';

/** What the rounds read from a writer, whichever client it is. */
interface ProbeWriter {
  successesSince(t: number): number;
  errorsBetween(from: number, to: number): PoolWrite[];
}

interface Round {
  what: string;
  from: string;
  to: string;
  startedAt: number;
  endedAt: number;
}

function pooledThroughFailovers(patroni: PatroniMajor): void {
  describe(`Patroni ${patroni}: a pg.Pool of 5 and 5 pgjdbc connections writing through switchovers and a crash`, () => {
    let cluster: PatroniCluster;
    let router: RouterUnderTest;
    let pool: PoolWriter | undefined;
    let jdbc: PgjdbcWriter | undefined;
    const writers: Array<{ name: string; writer: ProbeWriter }> = [];
    const rounds: Round[] = [];

    beforeAll(async () => {
      cluster = await startCluster({ patroni, members: 3 });
      router = await startRouter(cluster, '  - {name: primary, port: 0, route: primary, hold_timeout: 60s}');
      pool = new PoolWriter(router.connection('primary'), 5, 10, `pool-${patroni}`);
      pool.start();
      jdbc = new PgjdbcWriter(router.connection('primary'), 5, 10, `pgjdbc-${patroni}`);
      await jdbc.start();
      writers.push({ name: 'pg.Pool', writer: pool }, { name: 'pgjdbc', writer: jdbc });
      const since = Date.now();
      for (const { name, writer } of writers) await waitFor(`${name} to write`, () => writer.successesSince(since) >= 50, { timeoutMs: 60_000 });
    });

    afterAll(async () => {
      const summary = await jdbc?.stop().catch((e: unknown) => String(e));
      if (summary !== undefined) console.info(`[pooled-switchover] patroni ${patroni} pgjdbc writer: ${JSON.stringify(summary)}`);
      await pool?.stop();
      await router?.stop();
      await cluster?.stop();
    });

    /** Runs one failover and waits until the pool writes again on the new primary. */
    async function round(what: string, act: (leader: string) => Promise<string>): Promise<Round> {
      const from = (await cluster.leader())!;
      const startedAt = Date.now();
      const to = await act(from);
      await cluster.waitForLeader(to, 90_000);
      const resumedFrom = Date.now();
      for (const { name, writer } of writers) await waitFor(`${name} to write again after ${what}`, () => writer.successesSince(resumedFrom) >= 100, { timeoutMs: 90_000 });
      const r = { what, from, to, startedAt, endedAt: Date.now() };
      rounds.push(r);
      return r;
    }

    function tally(writer: ProbeWriter, r: Round): Record<ErrorCause, number> & { routerOnNewPrimary: number } {
      const counts = { 'member-shutdown': 0, 'router-fencing': 0, 'router-hold-timeout': 0, 'read-only-write': 0, 'connection-lost': 0, other: 0, routerOnNewPrimary: 0 };
      for (const e of writer.errorsBetween(r.startedAt, r.endedAt)) {
        const c = e.classified!;
        counts[c.cause]++;
        if (c.cause === 'router-fencing' && c.member === r.to) counts.routerOnNewPrimary++;
      }
      return counts;
    }

    function check(r: Round): void {
      for (const { name, writer } of writers) {
        const counts = tally(writer, r);
        const errors = writer.errorsBetween(r.startedAt, r.endedAt);
        const others = errors.filter((e) => e.classified?.cause === 'other').map((e) => `${e.code ?? ''} ${e.message ?? ''}`);
        const seen = [...new Set(errors.map((e) => `${e.code ?? '-'} ${e.message ?? ''}`))];
        console.info(`[pooled-switchover] patroni ${patroni} ${name} ${r.what} ${r.from} -> ${r.to}: ${JSON.stringify(counts)}; messages: ${seen.join(' | ')}`);
        expect(counts.routerOnNewPrimary, `${name}: sessions the router closed on the member that became and stayed primary`).toBe(0);
        expect(counts['read-only-write'], `${name}: writes that reached a read-only server`).toBe(0);
        expect(counts['router-hold-timeout'], name).toBe(0);
        expect(counts.other, `${name}: ${others.join('\n')}`).toBe(0);
        // At most one error per connection, all on the old primary.
        expect(counts['member-shutdown'] + counts['router-fencing'] + counts['connection-lost'], name).toBeLessThanOrEqual(5);
      }
    }

    it('a planned switchover', async () => {
      check(
        await round('switchover', async (leader) => {
          const to = cluster.members.find((m) => m.name !== leader)!.name;
          await cluster.switchover(to);
          return to;
        }),
      );
    });

    it('a second planned switchover, to the third member', async () => {
      check(
        await round('switchover', async (leader) => {
          const done = new Set(rounds.flatMap((r) => [r.from, r.to]));
          const to = cluster.members.find((m) => m.name !== leader && !done.has(m.name))?.name ?? cluster.members.find((m) => m.name !== leader)!.name;
          await cluster.switchover(to);
          return to;
        }),
      );
    });

    it('a leader crash (SIGKILL of Patroni and PostgreSQL)', async () => {
      check(
        await round('crash', async () => {
          const crashed = await cluster.crashLeader();
          return waitFor(
            'a new leader',
            async () => {
              const leader = await cluster.leader();
              return leader !== undefined && leader !== crashed ? leader : undefined;
            },
            { timeoutMs: 90_000 },
          );
        }),
      );
    });
  });
}

pooledThroughFailovers('3');
pooledThroughFailovers('4');
