/**
 * When does the follower publish the new primary after a planned switchover, against two
 * independent clocks: a raw etcd watcher (when the new leader's member key says master) and a
 * direct connection to the new leader polling `pg_is_in_recovery()` every 10 ms (when it
 * really became writable). The follower must be no later than the member key and never
 * earlier than postgres leaving recovery.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import { ClusterFollower } from '../../src/topology/cluster-follower.js';
import { scopePrefix } from '../../src/topology/scope-prefix.js';
import type { ClusterSource } from '../../src/config/types.js';
import { rawWatchV3, type RawWatch } from './topology-raw-watch.js';
import { startRouter, type RouterUnderTest } from '../support/router-under-test.js';
import { WriteLoop } from '../support/write-loop.js';
import { captureLog } from '../support/log-capture.js';

/** WriteLoop times are Date.now(); everything else here is performance.now(). */
const fromWall = (wallMs: number): number => wallMs - performance.timeOrigin;

interface RecoveryPoll {
  sentAt: number;
  answeredAt: number;
  inRecovery: boolean;
}

/** One connection to a member asking `SELECT pg_is_in_recovery()` every `everyMs` until stopped. */
class RecoveryPoller {
  readonly polls: RecoveryPoll[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(
    private readonly port: number,
    private readonly everyMs = 10,
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const client = new pg.Client({ host: '127.0.0.1', port: this.port, user: 'postgres', database: 'postgres' });
      client.on('error', () => undefined); // a dropped connection shows up as a failed query below
      try {
        await client.connect();
        while (this.running) {
          const sentAt = performance.now();
          const res = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
          this.polls.push({ sentAt, answeredAt: performance.now(), inRecovery: res.rows[0]!.r });
          const wait = sentAt + this.everyMs - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, this.everyMs));
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }

  /** The first poll that found the server out of recovery, after `since`. */
  firstWritable(since: number): RecoveryPoll | undefined {
    return this.polls.find((p) => p.sentAt >= since && !p.inRecovery);
  }

  /** The last poll, sent after `since`, that still found the server in recovery. */
  lastInRecovery(since: number): RecoveryPoll | undefined {
    return this.polls.filter((p) => p.sentAt >= since && p.inRecovery).at(-1);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

interface Sample {
  label: string;
  /** Publish time minus the raw watcher's member-key-says-master time (negative = earlier). */
  vsMemberKeyMs: number;
  /** Publish time minus the first direct poll that saw pg_is_in_recovery() = false. */
  vsFirstWritablePollMs: number;
  /** First write through the router on the new primary, minus the first direct poll out of recovery. */
  routerResumeVsOracleMs: number;
  /** The same, minus the member key saying master. */
  routerResumeVsMemberKeyMs: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

describe('promotion timing on a real cluster (Patroni defaults ttl 30, loop_wait 10)', () => {
  let cluster: PatroniCluster;
  let raw: RawWatch;
  let follower: ClusterFollower;
  let router: RouterUnderTest;
  const followerLog = captureLog('info', 300);
  const samples: Sample[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ members: 3, ttl: 30, loopWait: 10, retryTimeout: 10 });
    raw = await rawWatchV3(cluster.etcd.endpoint, scopePrefix(cluster.namespace, cluster.scope));
    const config: ClusterSource = {
      scope: cluster.scope,
      namespace: cluster.namespace,
      etcd: { api: 'etcd3', endpoints: [cluster.etcd.endpoint] },
      topology: { resyncIntervalMs: 30_000, probeIntervalMs: 1000, probeTimeoutMs: 800, dcsLossWrites: 'ttl' },
    };
    follower = new ClusterFollower(config, followerLog.logger);
    follower.start();
    await cluster.waitForHealthy();
    await waitFor('the follower to know the primary', () => follower.current()?.writablePrimary, { timeoutMs: 30_000 });
    router = await startRouter(cluster, '  - {name: primary, port: 0, route: primary, hold_timeout: 45s}');
    await waitFor('the router to know the primary', () => router.router.ready() && router.router.feeds().get(cluster.scope)?.current()?.writablePrimary, { timeoutMs: 30_000 });
  });

  afterAll(async () => {
    if (samples.length > 0) {
      const key = samples.map((s) => s.vsMemberKeyMs);
      console.log(
        `promotion timing over ${samples.length} switchovers: writablePrimary published ${samples.map((s) => `${s.label} ${-Math.round(s.vsMemberKeyMs)} ms`).join(', ')} before the member key said master ` +
          `(median ${-Math.round(median(key))} ms, least ${-Math.round(Math.max(...key))} ms); ` +
          `after the first direct poll seeing pg_is_in_recovery()=false: ${samples.map((s) => `${Math.round(s.vsFirstWritablePollMs)} ms`).join(', ')}; ` +
          `writes through the router resumed ${samples.map((s) => `${Math.round(s.routerResumeVsOracleMs)} ms`).join(', ')} after the direct poll and ` +
          `${samples.map((s) => `${-Math.round(s.routerResumeVsMemberKeyMs)} ms`).join(', ')} before the member key`,
      );
    }
    await router?.stop();
    await follower?.stop();
    await raw?.close();
    await cluster?.stop();
  });

  const diagnostics = (): string =>
    `follower: ${JSON.stringify(follower.current()?.writablePrimary)} ${JSON.stringify(follower.status())}\n${followerLog.tail(10)}\n${cluster.diagnostics(10)}`;

  async function measuredSwitchover(candidate: string): Promise<Sample> {
    const leader = await cluster.waitForHealthy({ timeoutMs: 120_000 });
    const member = cluster.member(candidate);
    const poller = new RecoveryPoller(member.port);
    const checker = new pg.Client({ host: '127.0.0.1', port: member.port, user: 'postgres', database: 'postgres' });
    checker.on('error', () => undefined);
    await checker.connect();
    const writer = new WriteLoop(router.connection('primary'), 'promotion-timing');
    writer.start();
    try {
      await waitFor('writes through the router before the switchover', () => writer.successes().length > 5, { timeoutMs: 10_000, intervalMs: 20 });
      await waitFor(`the poller to reach ${candidate}`, () => poller.polls.length > 3, { timeoutMs: 10_000, intervalMs: 20 });
      const since = performance.now();
      const rawFrom = raw.events.length;
      let publishedAt: number | undefined;
      let checkAtPublish: Promise<boolean> | undefined;
      const unsubscribe = follower.subscribe((c) => {
        if (publishedAt !== undefined || c.next.writablePrimary !== candidate || c.previous?.writablePrimary === candidate) return;
        publishedAt = performance.now();
        // Asked the moment the follower names it: a primary must answer false.
        checkAtPublish = checker.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r').then((r) => r.rows[0]!.r);
      });
      try {
        await cluster.switchover(candidate, { leader });
        const keySaysMaster = await waitFor(
          `the raw watcher to see members/${candidate} say master`,
          () =>
            raw.events
              .slice(rawFrom)
              .find((e) => e.type === 'put' && e.key === `members/${candidate}` && /"role":"(master|primary)"/.test(e.value ?? '') && /"state":"running"/.test(e.value ?? '')),
          { timeoutMs: 30_000, intervalMs: 20, diagnostics },
        );
        await waitFor(`the follower to publish ${candidate}`, () => publishedAt, { timeoutMs: 10_000, intervalMs: 10, diagnostics });
        const firstWritable = await waitFor(`a direct poll to see ${candidate} out of recovery`, () => poller.firstWritable(since), { timeoutMs: 10_000, intervalMs: 10 });
        const inRecoveryAtPublish = await checkAtPublish!;
        const lastInRecovery = poller.lastInRecovery(since);
        const leaderKeyAt = raw.events.slice(rawFrom).find((e) => e.key === 'leader' && e.value === candidate)?.t;
        if (leaderKeyAt === undefined) throw new Error(`the raw watcher never saw leader = ${candidate}`);
        // Any write that succeeds after the leader key names the candidate landed on it.
        const resumed = await waitFor('a write through the router on the new primary', () => writer.attempts.find((a) => a.ok && fromWall(a.at) >= leaderKeyAt), {
          timeoutMs: 15_000,
          intervalMs: 10,
          diagnostics,
        });
        const sample: Sample = {
          label: `${leader}->${candidate}`,
          vsMemberKeyMs: publishedAt! - keySaysMaster.t,
          vsFirstWritablePollMs: publishedAt! - firstWritable.sentAt,
          routerResumeVsOracleMs: fromWall(resumed.at) - firstWritable.sentAt,
          routerResumeVsMemberKeyMs: fromWall(resumed.at) - keySaysMaster.t,
        };
        console.log(
          `switchover ${sample.label}: leader key -> ${candidate} at +${Math.round(leaderKeyAt - since)} ms, ` +
            `first poll out of recovery +${Math.round(firstWritable.sentAt - since)} ms, published +${Math.round(publishedAt! - since)} ms, ` +
            `router write resumed +${Math.round(fromWall(resumed.at) - since)} ms, member key master +${Math.round(keySaysMaster.t - since)} ms`,
        );
        expect(inRecoveryAtPublish, 'pg_is_in_recovery() asked when the follower published').toBe(false);
        // A poll sent before the publish that still saw recovery would mean we published too early.
        expect(lastInRecovery === undefined || lastInRecovery.sentAt <= publishedAt!, `last in-recovery poll sent ${lastInRecovery?.sentAt} vs publish ${publishedAt}`).toBe(true);
        expect(sample.vsMemberKeyMs, 'published no later than the member key said master').toBeLessThanOrEqual(0);
        expect(
          writer.failures().filter((f) => f.code === '25006'),
          'writes refused as read-only',
        ).toEqual([]);
        return sample;
      } finally {
        unsubscribe();
      }
    } finally {
      await writer.stop();
      await poller.stop();
      await checker.end().catch(() => undefined);
    }
  }

  it('publishes each new primary after it left recovery and before its member key says master (3 switchovers)', async () => {
    for (let i = 0; i < 3; i++) {
      const leader = await cluster.waitForHealthy({ timeoutMs: 120_000 });
      const candidate = cluster.members.map((m) => m.name).find((n) => n !== leader && n !== samples.at(-1)?.label.split('->')[0])!;
      samples.push(await measuredSwitchover(candidate));
    }
    // Earlier than the member key in the typical case (Patroni writes it one loop after promoting).
    expect(median(samples.map((s) => s.vsMemberKeyMs))).toBeLessThan(-200);
    expect(median(samples.map((s) => s.routerResumeVsMemberKeyMs)), 'writes through the router resume before the member key says master').toBeLessThan(0);
  }, 360_000);
});
