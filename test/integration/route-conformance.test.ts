/**
 * Conformance with Patroni's own health checks: in steady state each route reaches exactly
 * the members whose equivalent REST check (GET /<path>) answers 200, on Patroni 3.0.2 and on
 * Patroni 4.0.7 (quorum mode, REST over HTTPS). The routes Patroni 3.0.2 lacks (/quorum,
 * /read-only-quorum) are compared on 4 only.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteKind } from '../../src/config/types.js';
import { createBalanceMemory } from '../../src/routing/balance-order.js';
import { chooseBackends } from '../../src/routing/choose-backends.js';
import { httpRequest, startCluster, waitFor, type ClusterOptions, type PatroniCluster } from '../cluster/index.js';
import { startRouter, type RouterUnderTest } from '../support/router-under-test.js';

const PATHS: Readonly<Partial<Record<RouteKind, string>>> = {
  primary: '/primary',
  replica: '/replica',
  sync: '/sync',
  async: '/async',
  quorum: '/quorum',
  'read-only': '/read-only',
  'read-only-sync': '/read-only-sync',
  'read-only-quorum': '/read-only-quorum',
  leader: '/leader',
  'standby-leader': '/standby-leader',
};

/** Per route, the members both must name in this shape's steady state. */
type Expected = Partial<Record<RouteKind, string[]>>;

function conformance(label: string, opts: ClusterOptions, expected: Expected): void {
  describe(label, () => {
    let cluster: PatroniCluster;
    let router: RouterUnderTest;

    beforeAll(async () => {
      cluster = await startCluster(opts);
      const restTls = cluster.restTls ? `, rest_tls: {ca: ${cluster.restCaFile}}` : '';
      router = await startRouter(cluster, '  - {name: primary, port: 0, route: primary}', { extraYaml: `topology: {probe_interval: 300ms${restTls}}\n` });
      await waitFor('the router to know the primary', () => router.router.feeds().get(cluster.scope)?.current()?.writablePrimary);
    });

    afterAll(async () => {
      await router?.stop();
      await cluster?.stop();
    });

    const ca = (): Buffer | undefined => (cluster.restTls ? fs.readFileSync(cluster.restCaFile) : undefined);

    async function restSays(path: string): Promise<string[]> {
      const answers = await Promise.all(
        cluster.members.map(async (m) => {
          const caPem = ca();
          const answer = await httpRequest('GET', `${m.restUrl}${path}`, caPem === undefined ? {} : { ca: caPem });
          return answer.status === 200 ? m.name : undefined;
        }),
      );
      return answers.filter((n): n is string => n !== undefined).sort();
    }

    function routerSays(route: RouteKind): string[] {
      const state = router.router.feeds().get(cluster.scope)!.current()!;
      const decision = chooseBackends(state, { route, tags: {}, balance: 'round-robin', now: Date.now() }, createBalanceMemory(new Map()));
      return decision.candidates.map((m) => m.name).sort();
    }

    it.each(Object.entries(expected) as Array<[RouteKind, string[]]>)('route %s reaches exactly the members where its REST check answers 200: %j', async (route, members) => {
      const path = PATHS[route]!;
      // Steady state: Patroni's answers settle within a loop after a sync key change, and so does
      // the router; both must then name the members this shape is built to have.
      let last = '';
      const agreed = await waitFor(
        `route ${route} and GET ${path} to both name ${JSON.stringify(members)}`,
        async () => {
          const rest = await restSays(path);
          const ours = routerSays(route);
          last = `REST ${JSON.stringify(rest)}, router ${JSON.stringify(ours)}`;
          return JSON.stringify(rest) === JSON.stringify(members) && JSON.stringify(ours) === JSON.stringify(members) ? { rest, ours } : undefined;
        },
        { timeoutMs: 40_000, intervalMs: 250, diagnostics: () => last },
      );
      expect(agreed.ours).toEqual(agreed.rest);
    });
  });
}

// pg0 bootstraps and leads. Tagged noloadbalance, it still answers 200 on /read-only; pg2
// (noloadbalance, nosync) answers 503 on every replica check, so pg1 is the sync standby.
conformance(
  'Patroni 3.0.2, synchronous mode, the leader and a replica tagged noloadbalance',
  { members: 3, synchronousMode: true, tags: { pg0: { noloadbalance: true }, pg2: { noloadbalance: true, nosync: true } } },
  {
    primary: ['pg0'],
    replica: ['pg1'],
    sync: ['pg1'],
    async: [],
    'read-only': ['pg0', 'pg1'],
    'read-only-sync': ['pg0', 'pg1'],
    leader: ['pg0'],
    'standby-leader': [],
  },
);
// Quorum mode with synchronous_node_count 1: ANY 1 (pg1, pg2), so no single voter is a sync standby.
conformance(
  'Patroni 4.0.7, quorum mode, REST over HTTPS',
  { patroni: '4', members: 3, synchronousMode: 'quorum', restTls: true },
  {
    primary: ['pg0'],
    replica: ['pg1', 'pg2'],
    sync: [],
    async: [],
    quorum: ['pg1', 'pg2'],
    'read-only': ['pg0', 'pg1', 'pg2'],
    'read-only-sync': ['pg0'],
    'read-only-quorum': ['pg0', 'pg1', 'pg2'],
    leader: ['pg0'],
    'standby-leader': [],
  },
);
