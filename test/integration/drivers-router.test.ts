/**
 * Every real driver's full scenario through the router (PatroniRouter in this process, on a real
 * 3-member Patroni cluster): through a primary listener and a replica listener (round-robin over
 * two replicas), with sslmode prefer (the members have ssl on and the router holds no
 * certificate, so TLS is passed through end to end and the router never reads the startup)
 * and sslmode disable (plain: the router reads the startup and the BackendKeyData).
 *
 * tls.backend.mode is `disable` and the router does not terminate TLS: with backend mode
 * `prefer` against members with ssl off, or with tls.cert set, sessions currently hang (a known
 * router bug being fixed separately). drivers.test.ts runs the same scenarios with no router.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, startCluster, waitFor, type PatroniCluster } from '../cluster/index.js';
import { driverNames, pgjdbcClasses, runScenario, type Endpoint, type SslMode } from '../support/drivers/index.js';
import { scenarioProblems } from '../support/drivers/scenario-verdict.js';
import { timingTable, type TimedScenario } from '../support/drivers/timing-table.js';
import { fullProduct } from '../support/matrix/pairwise.js';
import { startRouter, type RouterUnderTest } from '../support/router-under-test.js';

const LISTENERS = ['  - {name: primary, port: 0, route: primary}', '  - {name: replicas, port: 0, route: replica}'].join('\n');
const TLS = 'tls:\n  backend:\n    mode: disable\n';

const authMethods = ['trust', 'md5', 'scram-sha-256'] as const;
const roles = { trust: { user: credentials.trust.user }, md5: credentials.md5, 'scram-sha-256': credentials.scram } as const;

// Every driver through both listeners in both modes; the auth method rotates so that each
// driver meets all three (the full product with auth is drivers.test.ts's job, without router).
const cells = fullProduct({
  driver: driverNames,
  listener: ['primary', 'replicas'] as const,
  sslmode: ['prefer', 'disable'] satisfies SslMode[],
}).map((cell, i) => ({ ...cell, auth: authMethods[i % authMethods.length] ?? 'trust' }));

describe('real drivers through the router (TLS pass-through, backend mode disable)', () => {
  let cluster: PatroniCluster;
  let router: RouterUnderTest;
  let leaderPort: number;
  let replicaPorts: number[];
  const timed: TimedScenario[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ members: 3 });
    const leader = await cluster.waitForHealthy();
    leaderPort = cluster.member(leader).port;
    const replicas = cluster.members.filter((m) => m.name !== leader);
    replicaPorts = replicas.map((m) => m.port);
    router = await startRouter(cluster, LISTENERS, { extraYaml: TLS });
    await waitFor(
      'the router to see the leader writable and both replicas running',
      () => {
        const state = router.router.feeds().get(cluster.scope)?.current();
        return state?.writablePrimary === leader && replicas.every((r) => state.members.some((m) => m.name === r.name && m.role === 'replica' && m.state === 'running'));
      },
      { timeoutMs: 60_000 },
    );
    await pgjdbcClasses();
  });

  afterAll(async () => {
    if (timed.length > 0) console.log(`driver scenarios through the router (${timed.length} cells):\n${timingTable(timed)}`);
    await router?.stop();
    await cluster?.stop();
  });

  it.each(cells)('$driver -> $listener listener, sslmode=$sslmode, $auth', async ({ driver, listener, sslmode, auth }) => {
    const writable = listener === 'primary';
    const endpoint: Endpoint = { host: '127.0.0.1', port: router.port(listener), database: 'postgres', sslmode, ...roles[auth] };
    const started = performance.now();
    const result = await runScenario(driver, endpoint, { writable });
    timed.push({ result, wallMs: Math.round(performance.now() - started) });
    const expected = { ports: writable ? [leaderPort] : replicaPorts, inRecovery: !writable, ssl: sslmode === 'prefer' };
    expect(scenarioProblems(result, expected, writable), JSON.stringify(result, null, 1)).toEqual([]);
  });
});
