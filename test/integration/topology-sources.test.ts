import { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startEtcd, waitFor, type EtcdHandle } from '../cluster/index.js';
import { ClusterFollower } from '../../src/topology/cluster-follower.js';
import type { ClusterState } from '../../src/topology/cluster-state.js';
import type { ClusterSource } from '../../src/config/types.js';

/**
 * The DCS sources against a bare real etcd (no Patroni): keys written by the test in Patroni's
 * format, so the policy timer, resync and endpoint failover can be driven precisely.
 */
const member = (role: string, port: number): string =>
  JSON.stringify({ conn_url: `postgres://127.0.0.1:${port}/postgres`, api_url: 'http://127.0.0.1:1/patroni', state: 'running', role, xlog_location: 100, timeline: 1 });

const patroniKeys: Array<[string, string]> = [
  ['config', JSON.stringify({ ttl: 2, loop_wait: 1, synchronous_mode: false })],
  ['leader', 'a'],
  ['members/a', member('master', 5432)],
  ['members/b', member('replica', 5433)],
];

describe.each(['etcd3', 'etcd'] as const)('%s source against a bare etcd', (api) => {
  let etcd: EtcdHandle;
  let deadEndpoint: string;
  let follower: ClusterFollower;
  const scope = `sources-${api}`;
  const put = async (key: string, value: string): Promise<void> => {
    const full = `/service/${scope}/${key}`;
    if (api === 'etcd3') {
      const client = new Etcd3({ hosts: etcd.endpoint });
      try {
        await client.put(full).value(value).exec();
      } finally {
        client.close();
      }
    } else {
      const res = await request(`${etcd.endpoint}/v2/keys${full}`, {
        method: 'PUT',
        body: new URLSearchParams({ value }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      await res.body.text();
      if (res.statusCode >= 300) throw new Error(`v2 PUT ${full}: ${res.statusCode}`);
    }
  };
  const sees = (what: string, ok: (s: ClusterState) => boolean, timeoutMs = 10_000): Promise<ClusterState> =>
    waitFor(
      `the follower to see ${what}`,
      () => {
        const s = follower.current();
        return s !== undefined && ok(s) ? s : false;
      },
      { timeoutMs, intervalMs: 20, diagnostics: () => JSON.stringify({ state: follower.current(), status: follower.status() }).slice(0, 2000) },
    );

  beforeAll(async () => {
    etcd = await startEtcd({ v2: true });
    deadEndpoint = `http://127.0.0.1:${await freePort()}`;
    for (const [k, v] of patroniKeys) await put(k, v);
    const config: ClusterSource = {
      scope,
      namespace: 'service', // without slashes on purpose: normalised to /service/
      etcd: { api, endpoints: [deadEndpoint, etcd.endpoint] },
      topology: { resyncIntervalMs: 300, probeIntervalMs: 0, probeTimeoutMs: 500, dcsLossWrites: 'ttl' },
    };
    follower = new ClusterFollower(config, pino({ level: 'silent' }), { policyTickMs: 100 });
    follower.start();
  });

  afterAll(async () => {
    await follower?.stop();
    await etcd?.close();
  });

  it('reads the keys through the live endpoint when the first one is dead', async () => {
    const s = await sees('a writable', (x) => x.writablePrimary === 'a', 20_000);
    expect(s.members.map((m) => m.name)).toEqual(['a', 'b']);
    expect(s.config.ttl).toBe(2);
  });

  it('re-reads the prefix periodically even when nothing changes', async () => {
    const first = follower.status().lastContact!;
    await waitFor('two more contacts without any write', () => (follower.status().lastContact ?? 0) > first + 500, { timeoutMs: 5000, intervalMs: 50 });
    expect(follower.current()!.stale).toBe(false);
  });

  it('records a malformed member value as a problem and keeps the rest', async () => {
    await put('members/c', '{"conn_url": 12');
    const s = await sees('member c invalid', (x) => x.members.some((m) => m.name === 'c' && m.invalid !== undefined));
    expect(s.problems.some((p) => p.startsWith('members/c: not JSON'))).toBe(true);
    expect(s.writablePrimary).toBe('a');
  });

  it('keeps the primary for ttl after etcd goes away, then refuses it; recovers when etcd is back', async () => {
    await etcd.stop();
    const stale = await sees('stale state', (x) => x.stale);
    expect(stale.writablePrimary).toBe('a');
    const since = Date.now();
    const cleared = await sees('writable primary cleared after ttl 2 s', (x) => x.stale && x.writablePrimary === undefined, 10_000);
    expect(Date.now() - since).toBeGreaterThan(500);
    expect(cleared.members).toHaveLength(3); // reads keep the last picture
    await etcd.start();
    await sees('fresh state with a writable again', (x) => !x.stale && x.writablePrimary === 'a', 20_000);
    await put('leader', 'b');
    await put('members/b', member('master', 5433));
    await sees('b writable after the restart', (x) => x.writablePrimary === 'b');
  });
});
