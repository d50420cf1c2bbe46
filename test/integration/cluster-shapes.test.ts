import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, getMemberStatus, httpRequest, startCluster, waitFor, type ClusterMember, type ClusterOptions, type PatroniCluster } from '../cluster/index.js';
import { authAsked } from '../support/auth-request.js';
import { loginAs, loginOutcome, psqlOverTcp } from '../support/member-login.js';

// Proves that each cluster shape the harness offers really is what it says, on real clusters.
// The default shape (patroni 3, ssl on, mixed pg_hba, plain-HTTP REST) is cluster.test.ts's.

const loginRoles = [credentials.superuser, credentials.md5, credentials.scram, credentials.trust];

/** Starts a cluster for one describe block and logs how long it took to be healthy and prepared. */
function clusterFor(label: string, opts: ClusterOptions): () => PatroniCluster {
  let cluster: PatroniCluster | undefined;
  beforeAll(async () => {
    const started = Date.now();
    cluster = await startCluster(opts);
    console.info(`[cluster-shapes] ${label}: ${cluster.members.length} members healthy and prepared in ${Date.now() - started} ms`);
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => {
    if (!cluster) throw new Error(`the ${label} cluster did not start`);
    return cluster;
  };
}

function other(cluster: PatroniCluster, name: string): ClusterMember {
  const found = cluster.members.find((m) => m.name !== name);
  if (!found) throw new Error(`no member besides ${name}`);
  return found;
}

/** auth_method of every `host` line of pg_hba, as PostgreSQL parsed it. */
async function hostLineMethods(cluster: PatroniCluster, member: string): Promise<string[]> {
  const out = await cluster.sql(member, `SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type = 'host' ORDER BY 1`);
  return out.split('\n');
}

/** How each role's password is stored: md5, scram or none. */
async function storedPasswords(cluster: PatroniCluster, member: string): Promise<Record<string, string>> {
  const out = await cluster.sql(
    member,
    `SELECT rolname || ':' || CASE WHEN rolpassword LIKE 'md5%' THEN 'md5' WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram' ELSE 'none' END
       FROM pg_authid WHERE rolname IN ('postgres', 'replicator', 'md5user', 'scramuser', 'trustuser') ORDER BY 1`,
  );
  return Object.fromEntries(out.split('\n').map((line) => line.split(':') as [string, string]));
}

async function memberKey(cluster: PatroniCluster, name: string): Promise<{ role?: string; state?: string; replication_state?: string; api_url?: string }> {
  const value = await cluster.dcsRead(`members/${name}`);
  if (value === undefined) throw new Error(`no member key for ${name}`);
  return JSON.parse(value) as { role?: string; state?: string; replication_state?: string; api_url?: string };
}

describe('patroni 3, ssl off, scram-sha-256 for everyone, REST API over HTTPS', () => {
  const cluster = clusterFor('patroni 3 / ssl off / scram-sha-256 / restTls', { members: 2, ssl: false, hba: 'scram-sha-256', restTls: true });

  it('says what it is', () => {
    const c = cluster();
    expect([c.patroniVersion, c.ssl, c.hba, c.restTls]).toEqual(['3.0.2', false, 'scram-sha-256', true]);
  });

  it('serves no TLS: SHOW ssl is off and a psql with sslmode=require is refused', async () => {
    const c = cluster();
    for (const m of c.members) expect(await c.sql(m.name, 'SHOW ssl')).toBe('off');
    const member = c.members[0]!;
    await expect(psqlOverTcp(member, 'require', 'SELECT 1', c.dir)).rejects.toThrow('server does not support SSL, but SSL was required');
    expect(await psqlOverTcp(member, 'disable', 'SELECT 1', c.dir)).toBe('1');
  });

  it('asks every role for SCRAM: a wrong password fails and the right one works', async () => {
    const c = cluster();
    const leader = await c.waitForHealthy();
    expect(await hostLineMethods(c, leader)).toEqual(['scram-sha-256']);
    expect(await storedPasswords(c, leader)).toEqual({ md5user: 'scram', postgres: 'scram', replicator: 'scram', scramuser: 'scram', trustuser: 'scram' });
    for (const member of c.members) {
      for (const role of loginRoles) {
        expect(await authAsked(member.host, member.port, role.user), role.user).toBe('scram-sha-256');
        expect(await loginOutcome(member, role.user, 'not-the-password'), role.user).toBe('28P01');
        expect(await loginAs(member, role.user, role.password)).toBe(role.user);
      }
    }
  });

  it('serves the REST API only over HTTPS, verified against restCaFile', async () => {
    const c = cluster();
    const ca = fs.readFileSync(c.restCaFile);
    for (const m of c.members) {
      expect(m.restUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const answer = await httpRequest('GET', `${m.restUrl}/patroni`, { ca });
      expect(answer.status).toBe(200);
      expect((JSON.parse(answer.body) as { patroni?: { scope?: string } }).patroni?.scope).toBe(c.scope);
      // The same port does not speak plain HTTP, and the certificate is not trusted without the CA.
      await expect(httpRequest('GET', `${m.restUrl.replace('https:', 'http:')}/patroni`)).rejects.toThrow();
      await expect(httpRequest('GET', `${m.restUrl}/patroni`)).rejects.toThrow(/self[- ]signed/i);
      expect((await memberKey(c, m.name)).api_url).toBe(`${m.restUrl}/patroni`);
    }
  });

  it('switches over through patronictl over HTTPS, and the harness follows it over HTTPS', async () => {
    const c = cluster();
    const oldLeader = await c.waitForHealthy();
    const candidate = other(c, oldLeader).name;
    await c.switchover(candidate);
    await c.waitForLeader(candidate);
    expect(await c.waitForHealthy()).toBe(candidate);
    await c.setTags(oldLeader, { datacenter: 'dc2' });
    expect((await getMemberStatus(c.member(oldLeader).restUrl, c.restTrust)).tags).toEqual({ datacenter: 'dc2' });
  });
});

describe('patroni 3, md5 for everyone', () => {
  const cluster = clusterFor('patroni 3 / md5', { members: 2, hba: 'md5' });

  it('has md5 on every host line and md5 hashes for every role but scramuser', async () => {
    const c = cluster();
    const leader = await c.waitForHealthy();
    expect(c.hba).toBe('md5');
    expect(await hostLineMethods(c, leader)).toEqual(['md5']);
    expect(await storedPasswords(c, leader)).toEqual({ md5user: 'md5', postgres: 'md5', replicator: 'md5', scramuser: 'scram', trustuser: 'md5' });
  });

  it('asks md5 of md5-hashed roles and SCRAM of scramuser; a wrong password fails and the right one works', async () => {
    const c = cluster();
    for (const member of c.members) {
      for (const role of loginRoles) {
        // PostgreSQL answers an md5 line with SCRAM when the stored password is a SCRAM verifier.
        const expected = role.user === credentials.scram.user ? 'scram-sha-256' : 'md5';
        expect(await authAsked(member.host, member.port, role.user), role.user).toBe(expected);
        expect(await loginOutcome(member, role.user, 'not-the-password'), role.user).toBe('28P01');
        expect(await loginAs(member, role.user, role.password)).toBe(role.user);
      }
    }
  });

  it('serves TLS by default: a psql with sslmode=require gets an encrypted session', async () => {
    const c = cluster();
    expect(c.ssl).toBe(true);
    for (const m of c.members) {
      expect(await psqlOverTcp(m, 'require', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', c.dir)).toBe('t');
    }
  });
});

describe('patroni 3, trust for everyone', () => {
  const cluster = clusterFor('patroni 3 / trust', { members: 2, hba: 'trust' });

  it('lets every role in without a password, though each has one', async () => {
    const c = cluster();
    const leader = await c.waitForHealthy();
    expect(await hostLineMethods(c, leader)).toEqual(['trust']);
    expect(await storedPasswords(c, leader)).toEqual({ md5user: 'md5', postgres: 'scram', replicator: 'scram', scramuser: 'scram', trustuser: 'scram' });
    for (const member of c.members) {
      for (const role of loginRoles) {
        expect(await authAsked(member.host, member.port, role.user), role.user).toBe('trust');
        expect(await loginAs(member, role.user)).toBe(role.user);
      }
    }
  });
});

describe('patroni 4.0.7', () => {
  const cluster = clusterFor('patroni 4', { patroni: '4', members: 2 });

  it('runs 4.0.7 on every member, with the default ssl and pg_hba', async () => {
    const c = cluster();
    expect(c.patroniVersion).toBe('4.0.7');
    for (const m of c.members) expect((await getMemberStatus(m.restUrl)).patroni?.version).toBe('4.0.7');
    const leader = await c.waitForHealthy();
    expect(await c.sql(leader, 'SHOW ssl')).toBe('on');
    const member = c.member(leader);
    expect(await authAsked(member.host, member.port, credentials.trust.user)).toBe('trust');
    expect(await authAsked(member.host, member.port, credentials.md5.user)).toBe('md5');
  });

  it("writes role primary into the leader's member key, replica and streaming into the replica's", async () => {
    const c = cluster();
    const leader = await c.waitForHealthy();
    const replica = other(c, leader).name;
    await waitFor(`member keys of ${leader} (primary) and ${replica} (replica, streaming)`, async () => {
      const [l, r] = await Promise.all([memberKey(c, leader), memberKey(c, replica)]);
      if (l.role !== 'primary' || r.role !== 'replica' || r.replication_state !== 'streaming') {
        throw new Error(`${leader}: ${JSON.stringify(l)}, ${replica}: ${JSON.stringify(r)}`);
      }
      return true;
    });
  });

  it('switches over through its own patronictl', async () => {
    const c = cluster();
    const oldLeader = await c.waitForHealthy();
    const candidate = other(c, oldLeader).name;
    await c.switchover(candidate);
    await c.waitForLeader(candidate);
    expect(await c.waitForHealthy()).toBe(candidate);
    await waitFor(`${candidate}'s member key to say primary`, async () => (await memberKey(c, candidate)).role === 'primary');
    expect(await c.sql(oldLeader, 'SELECT pg_is_in_recovery()')).toBe('t');
  });
});

describe("patroni 4.0.7, synchronous_mode 'quorum', REST API over HTTPS", () => {
  const cluster = clusterFor('patroni 4 / quorum / restTls', { patroni: '4', members: 3, synchronousMode: 'quorum', restTls: true });

  /** The sync key once it names the leader and both other members as quorum voters. */
  async function quorumSyncKey(c: PatroniCluster, leader: string): Promise<{ leader?: string; quorum?: number; sync_standby?: string }> {
    const voters = c.members
      .filter((m) => m.name !== leader)
      .map((m) => m.name)
      .sort();
    return waitFor(
      `a sync key with quorum 1 over ${voters.join(',')} led by ${leader}`,
      async () => {
        const value = await c.dcsRead('sync');
        const sync = value === undefined ? undefined : (JSON.parse(value) as { leader?: string; quorum?: number; sync_standby?: string | null });
        const standbys = (sync?.sync_standby ?? '').split(',').filter(Boolean).sort();
        if (sync?.leader !== leader || sync.quorum !== 1 || standbys.join(',') !== voters.join(',')) throw new Error(`sync key is ${value}`);
        return { leader: sync.leader, quorum: sync.quorum, sync_standby: standbys.join(',') };
      },
      { timeoutMs: 60_000, diagnostics: () => c.diagnostics(10) },
    );
  }

  it('keeps a quorum sync key and ANY 1 synchronous standbys', async () => {
    const c = cluster();
    expect([c.patroniVersion, c.synchronousMode, c.restTls]).toEqual(['4.0.7', 'quorum', true]);
    const leader = await c.waitForHealthy();
    expect(JSON.parse((await c.dcsRead('config')) ?? '{}')).toMatchObject({ synchronous_mode: 'quorum' });
    await quorumSyncKey(c, leader);
    const names = await c.sql(leader, 'SHOW synchronous_standby_names');
    expect(names).toMatch(/^ANY 1 \(/);
    for (const m of c.members.filter((x) => x.name !== leader)) expect(names).toContain(m.name);
  });

  it('answers GET /quorum 200 on the voters only, over HTTPS', async () => {
    const c = cluster();
    const leader = await c.waitForHealthy();
    await quorumSyncKey(c, leader);
    const status = async (m: ClusterMember, path: string): Promise<number> => (await httpRequest('GET', `${m.restUrl}${path}`, c.restTrust)).status;
    // A member's REST API judges by the cluster it read from etcd in its last loop, so it can
    // lag the sync key by up to loop_wait.
    for (const voter of c.members.filter((m) => m.name !== leader)) {
      await waitFor(`${voter.name} to answer GET /quorum with 200`, async () => (await status(voter, '/quorum')) === 200, {
        timeoutMs: (c.loopWait + 10) * 1000,
      });
    }
    expect(await status(c.member(leader), '/quorum')).toBe(503);
    // In quorum mode no member is "the" sync standby.
    for (const m of c.members) expect(await status(m, '/sync'), `${m.name} /sync`).toBe(503);
  });

  it('switches over through patronictl over HTTPS and forms the quorum again', async () => {
    const c = cluster();
    const oldLeader = await c.waitForHealthy();
    const candidate = other(c, oldLeader).name;
    await c.switchover(candidate);
    await c.waitForLeader(candidate);
    expect(await c.waitForHealthy()).toBe(candidate);
    await quorumSyncKey(c, candidate);
  });
});
