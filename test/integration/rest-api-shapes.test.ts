/**
 * The router against Patroni 4.0.7 with its REST API over HTTPS (self-signed certificate):
 * the prober verifies the certificate with `topology.rest_tls.ca` (or does not, when told),
 * and REST-only mode routes replicas although GET /cluster reports them as `streaming`.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import { startRouter, type RouterUnderTest } from '../support/router-under-test.js';

describe('Patroni 4 with an HTTPS REST API', () => {
  let cluster: PatroniCluster;
  const routers: RouterUnderTest[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ patroni: '4', members: 3, restTls: true });
  });

  afterAll(async () => {
    for (const r of routers) await r.stop();
    await cluster?.stop();
  });

  async function router(extraYaml: string, dcs?: string): Promise<RouterUnderTest> {
    const r = await startRouter(cluster, '  - {name: primary, port: 0, route: primary}\n  - {name: replicas, port: 0, route: replica}', {
      extraYaml,
      ...(dcs !== undefined ? { dcs } : {}),
    });
    routers.push(r);
    return r;
  }

  const replicaPorts = (): Set<number> => new Set(cluster.members.map((m) => m.port));

  /** The members a listener would use now, per the router's own routing. */
  const wouldUse = async (r: RouterUnderTest, listener: string): Promise<number> => {
    const seen = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const client = new pg.Client(r.connection(listener));
      await client.connect();
      const { rows } = await client.query<{ port: number; ro: boolean }>('SELECT inet_server_port() AS port, pg_is_in_recovery() AS ro');
      await client.end();
      expect(rows[0]!.ro).toBe(listener === 'replicas');
      seen.add(rows[0]!.port);
    }
    for (const port of seen) expect(replicaPorts().has(port)).toBe(true);
    return seen.size;
  };

  const topologyOf = (r: RouterUnderTest) => r.router.feeds().get(cluster.scope)!.current();

  it('without rest_tls the prober cannot verify the self-signed certificate, and says so', async () => {
    const r = await router('topology: {probe_interval: 200ms}\n');
    const state = await waitFor('the prober to report the REST APIs unreachable', () => {
      const s = topologyOf(r);
      return s !== undefined && s.members.every((m) => m.observed?.reachable === false) ? s : undefined;
    });
    expect(state.members[0]!.observed?.error).toMatch(/certificate/i);
    await r.stop();
  });

  it('with rest_tls.ca the prober verifies it: live lag from REST, both replicas routed', async () => {
    const r = await router(`topology: {probe_interval: 200ms, rest_tls: {ca: ${cluster.restCaFile}}}\n`);
    await waitFor('every member observed over HTTPS', () => topologyOf(r)?.members.every((m) => m.observed?.reachable === true && m.observed.xlogShape !== undefined));
    await waitFor('live lag from REST for the replicas', () => topologyOf(r)?.members.filter((m) => m.lagSource === 'rest').length === 2);
    expect(await wouldUse(r, 'replicas')).toBe(2);
    expect(await wouldUse(r, 'primary')).toBe(1);
  });

  it('with rest_tls.verify false (HAProxy check-ssl verify none) it probes without a CA', async () => {
    const r = await router('topology: {probe_interval: 200ms, rest_tls: {verify: false}}\n');
    await waitFor('every member observed over HTTPS', () => topologyOf(r)?.members.every((m) => m.observed?.reachable === true));
    expect(await wouldUse(r, 'replicas')).toBe(2);
  });

  it('REST-only mode (GET /cluster says the replicas are streaming) routes both replicas and the primary', async () => {
    const urls = cluster.members.map((m) => `      - ${m.restUrl}`).join('\n');
    const r = await router(
      `topology: {probe_interval: 200ms, rest_tls: {ca: ${cluster.restCaFile}}}\n`,
      `scope: ${cluster.scope}\nnamespace: ${cluster.namespace}\nrest:\n  urls:\n${urls}\n`,
    );
    const state = await waitFor('the REST-only view with a writable primary', () => (topologyOf(r)?.writablePrimary !== undefined ? topologyOf(r) : undefined));
    const replicas = state.members.filter((m) => m.name !== state.writablePrimary);
    expect(replicas.map((m) => [m.state, m.replicationState])).toEqual([
      ['running', 'streaming'],
      ['running', 'streaming'],
    ]);
    expect(await wouldUse(r, 'replicas')).toBe(2);
    expect(await wouldUse(r, 'primary')).toBe(1);
  });
});
