import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import { ClusterFollower } from '../../src/topology/cluster-follower.js';
import type { ClusterState, Member } from '../../src/topology/cluster-state.js';
import { memberByName } from '../../src/topology/cluster-state.js';
import { scopePrefix } from '../../src/topology/scope-prefix.js';
import type { ClusterSource } from '../../src/config/types.js';
import { captureLog } from '../support/log-capture.js';
import { CuttableLink } from './topology-link.js';
import { rawWatchV2, rawWatchV3, type RawEvent, type RawWatch } from './topology-raw-watch.js';

interface Publish {
  t: number;
  state: ClusterState;
}

interface DelaySample {
  what: string;
  ms: number;
}

function isRunningPrimaryValue(value: string | undefined): boolean {
  try {
    const d = JSON.parse(value ?? '') as { role?: string; state?: string };
    return (d.role === 'master' || d.role === 'primary') && d.state === 'running';
  } catch {
    return false;
  }
}

const summarise = (state: ClusterState | undefined): string =>
  state === undefined
    ? 'no state yet'
    : `gen ${state.generation} leader=${state.leader} writable=${state.writablePrimary} stale=${state.stale} sync=[${state.sync.standbys.join(',')}] ` +
      state.members.map((m) => `${m.name}:${m.role}/${m.state}${m.lagBytes === undefined ? '' : ` lag ${m.lagBytes}(${m.lagSource})`}`).join(' ');

/**
 * The same scenarios against a real 3-member Patroni cluster on etcd v3 (`etcd3:`) or v2
 * (`etcd:`): one cluster per file, shared by its tests, which run in order.
 */
export function describeFollowerOnRealCluster(dcs: 'etcd3' | 'etcd'): void {
  describe(`ClusterFollower on a real Patroni cluster (${dcs})`, () => {
    let cluster: PatroniCluster;
    let link: CuttableLink;
    let raw: RawWatch;
    let follower: ClusterFollower;
    const publishes: Publish[] = [];
    const samples: DelaySample[] = [];
    const followerLog = captureLog('info', 500);

    const diagnostics = (): string =>
      `follower: ${summarise(follower?.current())}\nstatus: ${JSON.stringify(follower?.status())}\n` +
      `follower log tail:\n${followerLog.tail(15)}\n${cluster?.diagnostics(8) ?? ''}`;

    const followerSees = (what: string, ok: (s: ClusterState) => boolean, timeoutMs = 30_000): Promise<ClusterState> =>
      waitFor(
        `the follower to see ${what}`,
        () => {
          const s = follower.current();
          return s !== undefined && ok(s) ? s : false;
        },
        { timeoutMs, intervalMs: 25, diagnostics },
      );

    /** The other member that may become leader (pg2 is tagged nofailover). */
    const otherCandidate = (leader: string): string => (leader === 'pg0' ? 'pg1' : 'pg0');

    /**
     * etcd change -> published ClusterState: time from the raw watcher's arrival of the new
     * leader's member key saying master/running to the follower publishing writablePrimary.
     */
    async function measurePromotion(label: string, target: string, since: number, rawFrom: number): Promise<number> {
      const promotedKey = await waitFor(
        `the raw etcd watcher to see members/${target} say master/running`,
        () => raw.events.slice(rawFrom).find((e: RawEvent) => e.type === 'put' && e.key === `members/${target}` && isRunningPrimaryValue(e.value)),
        { timeoutMs: 10_000, intervalMs: 25, diagnostics },
      );
      const published = publishes.find((p) => p.t >= since && p.state.writablePrimary === target);
      if (published === undefined) throw new Error(`no publish with writablePrimary ${target}\n${diagnostics()}`);
      const ms = published.t - promotedKey.t;
      samples.push({ what: `${label}: members/${target} says master -> writablePrimary ${target}`, ms });
      const deleted = raw.events.slice(rawFrom).find((e) => e.type === 'delete' && e.key === 'leader');
      const cleared = publishes.find((p) => p.t >= since && p.state.writablePrimary === undefined);
      if (deleted !== undefined && cleared !== undefined) samples.push({ what: `${label}: leader key deleted -> writablePrimary cleared`, ms: cleared.t - deleted.t });
      return ms;
    }

    beforeAll(async () => {
      cluster = await startCluster({
        dcs,
        members: 3,
        ttl: 12,
        loopWait: 2,
        retryTimeout: 4,
        synchronousMode: true,
        tags: { pg1: { datacenter: 'dc1' }, pg2: { nofailover: true, nosync: true, datacenter: 'dc2' } },
      });
      link = await CuttableLink.open({ host: '127.0.0.1', port: cluster.etcd.clientPort });
      const prefix = scopePrefix(cluster.namespace, cluster.scope);
      raw = dcs === 'etcd3' ? await rawWatchV3(cluster.etcd.endpoint, prefix) : await rawWatchV2(cluster.etcd.endpoint, prefix);
      const config: ClusterSource = {
        scope: cluster.scope,
        namespace: cluster.namespace,
        etcd: { api: dcs, endpoints: [link.url] },
        topology: { resyncIntervalMs: 30_000, probeIntervalMs: 1000, probeTimeoutMs: 800, dcsLossWrites: 'ttl' },
      };
      follower = new ClusterFollower(config, followerLog.logger);
      follower.subscribe((c) => publishes.push({ t: performance.now(), state: c.next }));
      follower.start();
    });

    afterAll(async () => {
      await follower?.stop();
      await raw?.close();
      await link?.close();
      await cluster?.stop();
      // The target metric: member key says master -> writablePrimary published. "Cleared"
      // samples are listed apart: negative ones mean REST saw the demotion before the DCS did.
      const promotions = samples
        .filter((x) => !x.what.includes('cleared'))
        .map((x) => x.ms)
        .sort((a, b) => a - b);
      if (promotions.length > 0) {
        const median = promotions[Math.floor((promotions.length - 1) / 2)]!;
        console.log(
          `etcd change -> ClusterState delays (${dcs}):\n${samples.map((x) => `  ${x.ms.toFixed(1)} ms  ${x.what}`).join('\n')}\n` +
            `  promotions: median ${median.toFixed(1)} ms, worst ${promotions.at(-1)!.toFixed(1)} ms (n=${promotions.length})`,
        );
      }
    });

    it('reads the initial state: leader, replicas, tags, sync standby', async () => {
      const leader = await cluster.leader();
      expect(leader).toBe('pg0');
      const s = await followerSees(
        'pg0 writable, pg1 as sync standby, everyone running',
        (x) => x.writablePrimary === 'pg0' && x.sync.standbys.join() === 'pg1' && x.members.length === 3 && x.members.every((m) => m.state === 'running'),
      );
      expect(s.stale).toBe(false);
      expect(s.problems).toEqual([]);
      expect(s.config).toMatchObject({ ttl: 12, loopWait: 2, synchronousMode: true, pause: false });
      expect(s.members.map((m: Member) => [m.name, m.role, m.host, m.port])).toEqual(
        cluster.members.map((m) => [m.name, m.name === 'pg0' ? 'primary' : 'replica', '127.0.0.1', m.port]),
      );
      const pg2 = memberByName(s, 'pg2')!;
      expect(pg2.tags).toMatchObject({ nofailover: true, nosync: true, noloadbalance: false });
      expect(pg2.tags.raw.datacenter).toBe('dc2');
      expect(memberByName(s, 'pg1')!.tags.raw).toEqual({ datacenter: 'dc1' });
      expect(memberByName(s, 'pg1')!.apiUrl).toBe(`${cluster.member('pg1').restUrl}/patroni`);
      expect(follower.status()).toMatchObject({ source: dcs, watch: 'connected' });
    });

    it('follows the same cluster in REST-only mode (GET /cluster)', async () => {
      const restOnly = new ClusterFollower(
        {
          scope: cluster.scope,
          namespace: cluster.namespace,
          // The first URL refuses connections: the source must move on to the next.
          restUrls: ['http://127.0.0.1:1', ...cluster.members.map((m) => m.restUrl)],
          topology: { resyncIntervalMs: 30_000, probeIntervalMs: 500, probeTimeoutMs: 800, dcsLossWrites: 'ttl' },
        },
        pino({ level: 'silent' }),
      );
      restOnly.start();
      try {
        const s = await waitFor(
          'the REST-only follower to see pg0 writable, pg1 sync, every member probed',
          () => {
            const x = restOnly.current();
            const probed = x?.members.every((m) => m.observed?.reachable === true) ?? false;
            return x !== undefined && probed && x.writablePrimary === 'pg0' && x.sync.standbys.join() === 'pg1' && x.members.length === 3 ? x : false;
          },
          { timeoutMs: 15_000, intervalMs: 50, diagnostics: () => summarise(restOnly.current()) },
        );
        expect(memberByName(s, 'pg2')!.tags).toMatchObject({ nofailover: true, nosync: true });
        expect(memberByName(s, 'pg0')!.observed).toMatchObject({ reachable: true, role: 'primary' });
        expect(restOnly.status()).toMatchObject({ source: 'rest', watch: 'connected' });
      } finally {
        await restOnly.stop();
      }
    });

    it('sees a tag change', async () => {
      await cluster.setTags('pg1', { datacenter: 'dc3', noloadbalance: true });
      const s = await followerSees('pg1 tagged noloadbalance, datacenter dc3', (x) => {
        const pg1 = memberByName(x, 'pg1');
        return pg1?.tags.noloadbalance === true && pg1.tags.raw.datacenter === 'dc3';
      });
      expect(memberByName(s, 'pg1')!.tags.raw).toEqual({ datacenter: 'dc3', noloadbalance: 'true' });
    });

    it('measures REST lag growing on a paused replica and shrinking after resume', async () => {
      await followerSees('REST lag for pg2', (x) => memberByName(x, 'pg2')?.lagSource === 'rest');
      // Patroni 3.0.2 resumes a paused replay on its next loop (PostgreSQL 14+) unless the
      // cluster is in maintenance mode, so pause the cluster first.
      await cluster.pause();
      try {
        await followerSees('the cluster paused', (x) => x.config.pause);
        await cluster.sql('pg2', 'SELECT pg_wal_replay_pause()');
        await cluster.sql('pg0', 'CREATE TABLE IF NOT EXISTS topology_lag (x int); INSERT INTO topology_lag SELECT generate_series(1, 200000)');
        // pg1 keeps replaying, so it must come back under 1 MB while pg2 stays behind.
        await followerSees('pg2 over 1 MB behind with replay paused, pg1 not', (x) => {
          const pg2 = memberByName(x, 'pg2');
          const pg1 = memberByName(x, 'pg1');
          return (
            pg2?.lagSource === 'rest' &&
            (pg2.lagBytes ?? 0) > 1_000_000 &&
            pg2.observed?.replayPaused === true &&
            pg1?.lagSource === 'rest' &&
            (pg1.lagBytes ?? Infinity) < 1_000_000
          );
        });
        await cluster.sql('pg2', 'SELECT pg_wal_replay_resume()');
        await followerSees('pg2 caught up after resume', (x) => {
          const pg2 = memberByName(x, 'pg2');
          return pg2?.lagSource === 'rest' && (pg2.lagBytes ?? Infinity) < 100_000 && pg2.observed?.replayPaused === false;
        });
      } finally {
        await cluster.resume();
      }
      await followerSees('the cluster resumed', (x) => !x.config.pause);
    });

    it('publishes the new primary within 200 ms of its member key saying master (switchover)', async () => {
      const since = performance.now();
      const rawFrom = raw.events.length;
      await cluster.switchover('pg1', { leader: 'pg0' });
      await followerSees('pg1 as writable primary', (x) => x.writablePrimary === 'pg1' && x.leader === 'pg1');
      const ms = await measurePromotion('switchover pg0->pg1', 'pg1', since, rawFrom);
      expect(ms).toBeLessThan(200);
      // Never two writable primaries in a row without a gap: pg0 is cleared before pg1 appears.
      const during = publishes.filter((p) => p.t >= since).map((p) => p.state.writablePrimary);
      expect(during.indexOf(undefined)).toBeLessThan(during.indexOf('pg1'));
    });

    it('sees a leader change that happened while its watch was cut', async () => {
      const leader = follower.current()!.writablePrimary!;
      const target = otherCandidate(leader);
      await followerSees(`${target} as sync standby`, (x) => x.sync.standbys.includes(target) && memberByName(x, target)?.state === 'running');
      await link.cut();
      await followerSees('the state marked stale', (x) => x.stale);
      await cluster.switchover(target, { leader });
      await cluster.waitForLeader(target);
      expect(follower.current()!.leader).toBe(leader); // it cannot have seen the DCS
      expect(follower.current()!.writablePrimary).not.toBe(target);
      await link.restore();
      const s = await followerSees(`${target} writable after the link is back`, (x) => !x.stale && x.writablePrimary === target);
      expect(memberByName(s, leader)!.role).not.toBe('primary');
      expect(follower.status().reconnects).toBeGreaterThanOrEqual(1);
    });

    it('recovers from an etcd restart and follows the next switchover', async () => {
      const leader = follower.current()!.writablePrimary!;
      await cluster.etcd.stop();
      const stale = await followerSees('the state marked stale while etcd is down', (x) => x.stale);
      expect(stale.writablePrimary).toBe(leader); // within ttl of the last contact: kept
      await cluster.etcd.start();
      const healthy = await cluster.waitForHealthy({ timeoutMs: 60_000 });
      await followerSees(`fresh state with ${healthy} writable`, (x) => !x.stale && x.writablePrimary === healthy);
      const target = otherCandidate(healthy);
      await followerSees(`${target} as sync standby`, (x) => x.sync.standbys.includes(target) && memberByName(x, target)?.state === 'running', 60_000);
      const since = performance.now();
      const rawFrom = raw.events.length;
      await cluster.switchover(target, { leader: healthy });
      await followerSees(`${target} as writable primary`, (x) => x.writablePrimary === target);
      expect(await measurePromotion(`switchover after etcd restart ${healthy}->${target}`, target, since, rawFrom)).toBeLessThan(200);
    });

    it('replaces a crashed leader', async () => {
      const leader = follower.current()!.writablePrimary!;
      const target = otherCandidate(leader);
      await followerSees(`${target} as sync standby`, (x) => x.sync.standbys.includes(target) && memberByName(x, target)?.state === 'running', 60_000);
      const since = performance.now();
      const rawFrom = raw.events.length;
      expect(await cluster.crashLeader()).toBe(leader);
      const s = await followerSees(`${target} writable after ${leader} crashed`, (x) => x.writablePrimary === target, 60_000);
      expect(s.leader).toBe(target);
      expect(await measurePromotion(`crash of ${leader}, ${target} takes over`, target, since, rawFrom)).toBeLessThan(200);
    });
  });
}
