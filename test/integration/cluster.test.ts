import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, getClusterView, readDcsKey, startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import { authAsked } from '../support/auth-request.js';

// Proves the harness everything else is built on: real etcd, Patroni and PostgreSQL.

async function rolesByMember(cluster: PatroniCluster): Promise<Record<string, string>> {
  const view = await getClusterView(cluster.members[0]!.restUrl).catch(() => getClusterView(cluster.members[1]!.restUrl));
  return Object.fromEntries(view.members.map((m) => [m.name, m.role]));
}

async function membersNotInRecovery(cluster: PatroniCluster): Promise<string[]> {
  const answers = await Promise.all(cluster.members.map(async (m) => [m.name, await cluster.sql(m.name, 'SELECT pg_is_in_recovery()')] as const));
  return answers.filter(([, inRecovery]) => inRecovery === 'f').map(([name]) => name);
}

describe('a Patroni cluster on etcd v3', () => {
  let cluster: PatroniCluster;

  beforeAll(async () => {
    const started = Date.now();
    cluster = await startCluster();
    console.info(`[cluster.test] 3-member cluster healthy and prepared in ${Date.now() - started} ms`);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts with one leader, two streaming replicas, TLS and the test roles', async () => {
    const leader = await cluster.waitForHealthy();
    expect(await cluster.leader()).toBe(leader);
    expect(await cluster.dcsRead('leader')).toBe(leader);
    expect(await membersNotInRecovery(cluster)).toEqual([leader]);
    expect(await cluster.sql(leader, 'SHOW ssl')).toBe('on');
    expect(await cluster.sql(leader, 'SHOW max_connections')).toBe('200');
    const hashes = await cluster.sql(
      leader,
      `SELECT rolname || ':' || CASE WHEN rolpassword LIKE 'md5%' THEN 'md5' WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram' END
         FROM pg_authid WHERE rolname IN ('${credentials.md5.user}', '${credentials.scram.user}') ORDER BY 1`,
    );
    expect(hashes.split('\n')).toEqual([`${credentials.md5.user}:md5`, `${credentials.scram.user}:scram`]);
  });

  it("is today's default shape, and under mixed pg_hba asks md5user for md5, scramuser for SCRAM and trustuser nothing", async () => {
    expect([cluster.patroniVersion, cluster.ssl, cluster.hba, cluster.restTls, cluster.synchronousMode]).toEqual(['3.0.2', true, 'mixed', false, false]);
    for (const m of cluster.members) {
      expect(m.restUrl).toMatch(/^http:\/\//);
      expect(await authAsked(m.host, m.port, credentials.md5.user)).toBe('md5');
      expect(await authAsked(m.host, m.port, credentials.scram.user)).toBe('scram-sha-256');
      expect(await authAsked(m.host, m.port, credentials.trust.user)).toBe('trust');
      expect(await authAsked(m.host, m.port, credentials.superuser.user)).toBe('trust');
    }
  });

  it('replicates a write on the leader to both replicas', async () => {
    const leader = await cluster.waitForHealthy();
    const note = `replicated-${Date.now()}`;
    await cluster.sql(leader, `INSERT INTO public.router_probe (note) VALUES ('${note}')`);
    for (const replica of cluster.members.filter((m) => m.name !== leader)) {
      await waitFor(
        `${replica.name} to replay the write`,
        async () => (await cluster.sql(replica.name, `SELECT count(*) FROM public.router_probe WHERE note = '${note}'`)) === '1',
      );
    }
  });

  it("publishes a member's tags in its etcd member key", async () => {
    await cluster.setTags('pg2', { datacenter: 'dc2', nofailover: true });
    const tagged = await waitFor('pg2 member key to carry the tags', async () => {
      const value = await cluster.dcsRead('members/pg2');
      const tags = value === undefined ? undefined : (JSON.parse(value) as { tags?: Record<string, unknown> }).tags;
      return tags?.datacenter === 'dc2' && tags.nofailover === true ? tags : undefined;
    });
    expect(tagged).toEqual({ datacenter: 'dc2', nofailover: true });

    await cluster.setTags('pg2', {});
    await waitFor('pg2 member key to lose the tags', async () => {
      const value = await cluster.dcsRead('members/pg2');
      return value !== undefined && (JSON.parse(value) as { tags?: unknown }).tags === undefined;
    });
  });

  it('moves the leader on a planned switchover and the old leader rejoins as a replica', async () => {
    const oldLeader = await cluster.waitForHealthy();
    const candidate = cluster.members.find((m) => m.name !== oldLeader)!.name;
    await cluster.switchover(candidate);
    await cluster.waitForLeader(candidate);
    expect(await cluster.waitForHealthy()).toBe(candidate);
    expect((await rolesByMember(cluster))[oldLeader]).toBe('replica');
    expect(await cluster.sql(oldLeader, 'SELECT pg_is_in_recovery()')).toBe('t');
  });

  it('elects a new leader within ttl + loop_wait after the leader crashes', async () => {
    await cluster.waitForHealthy();
    const crashedAt = Date.now();
    const crashed = await cluster.crashLeader();
    const bound = (cluster.ttl + cluster.loopWait + 5) * 1000;
    const newLeader = await waitFor(
      'a new leader after the crash',
      async () => {
        const leader = await cluster.leader();
        return leader !== undefined && leader !== crashed ? leader : undefined;
      },
      { timeoutMs: bound + 30_000, intervalMs: 100, diagnostics: () => cluster.diagnostics() },
    );
    const electedMs = Date.now() - crashedAt;
    await cluster.waitForLeader(newLeader);
    const writableMs = Date.now() - crashedAt;
    console.info(`[cluster.test] crash of ${crashed}: ${newLeader} elected after ${electedMs} ms, writable after ${writableMs} ms (bound ${bound} ms)`);
    expect(electedMs).toBeLessThanOrEqual(bound);
    expect(writableMs).toBeLessThanOrEqual(bound);

    await cluster.startMember(crashed);
    expect(await cluster.waitForHealthy()).toBe(newLeader);
    expect(await cluster.sql(crashed, 'SELECT pg_is_in_recovery()')).toBe('t');
  });

  it('keeps exactly one leader through an etcd outage and recovery', async () => {
    const leader = await cluster.waitForHealthy();
    await cluster.etcd.stop();
    // Without failsafe_mode a leader that cannot reach the DCS must stop accepting writes.
    await waitFor(`${leader} to give up writes while etcd is down`, async () => (await cluster.sql(leader, 'SELECT pg_is_in_recovery()')) === 't', {
      timeoutMs: (cluster.ttl + cluster.loopWait + 30) * 1000,
      intervalMs: 250,
      diagnostics: () => cluster.diagnostics(10),
    });
    await cluster.etcd.start();
    await cluster.waitForHealthy();
    const roles = await rolesByMember(cluster);
    expect(Object.values(roles).filter((role) => role === 'leader')).toHaveLength(1);
    expect(await membersNotInRecovery(cluster)).toHaveLength(1);
  });
});

describe('a Patroni cluster on etcd v2', () => {
  let cluster: PatroniCluster;

  beforeAll(async () => {
    cluster = await startCluster({ dcs: 'etcd', members: 2 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('has a leader and a streaming replica, with its keys in the v2 store only', async () => {
    const leader = await cluster.waitForHealthy();
    expect(cluster.etcd.v2).toBe(true);
    expect(await cluster.dcsRead('leader')).toBe(leader);
    const v3Key = await readDcsKey(cluster.etcd.endpoint, 'etcd3', `${cluster.namespace}${cluster.scope}/leader`);
    expect(v3Key).toBeUndefined();
    expect(await membersNotInRecovery(cluster)).toEqual([leader]);
  });
});
