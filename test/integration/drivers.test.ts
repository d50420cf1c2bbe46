/**
 * Every real driver (psql, pgbench, node-postgres, psycopg2, psycopg 3, pgjdbc) runs its full
 * scenario straight against the members of a real Patroni cluster, no router in between: the
 * primary (writable: temp-table writes, COPY FROM STDIN) and a replica (read-only), with
 * sslmode disable and require (the harness's members have ssl on), as a trust, an md5 and a
 * scram-sha-256 role. This is the baseline the router runs (drivers-router.test.ts) are
 * compared with: a failure here is the driver layer's or the cluster's, not the router's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, startCluster, type PatroniCluster } from '../cluster/index.js';
import { driverNames, pgjdbcClasses, runScenario, type Endpoint, type SslMode } from '../support/drivers/index.js';
import { scenarioProblems } from '../support/drivers/scenario-verdict.js';
import { timingTable, type TimedScenario } from '../support/drivers/timing-table.js';
import { fullProduct } from '../support/matrix/pairwise.js';

/** pg_hba gives every role but md5user and scramuser trust; this one exists to say so. */
const roles = {
  trust: { user: credentials.trust.user },
  md5: credentials.md5,
  'scram-sha-256': credentials.scram,
} as const;

const cells = fullProduct({
  driver: driverNames,
  member: ['primary', 'replica'] as const,
  sslmode: ['disable', 'require'] satisfies SslMode[],
  auth: ['trust', 'md5', 'scram-sha-256'] as const,
});

describe('real drivers straight to the members (no router)', () => {
  let cluster: PatroniCluster;
  let ports: { primary: number; replica: number };
  const timed: TimedScenario[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ members: 2 });
    const leader = await cluster.waitForHealthy();
    const replica = cluster.members.find((m) => m.name !== leader);
    if (replica === undefined) throw new Error('no replica');
    ports = { primary: cluster.member(leader).port, replica: replica.port };
    // Compile the Java scenario once, before any cell is timed.
    await pgjdbcClasses();
  });

  afterAll(async () => {
    if (timed.length > 0) console.log(`driver scenarios straight to the members (${timed.length} cells):\n${timingTable(timed)}`);
    await cluster?.stop();
  });

  it.each(cells)('$driver -> $member, sslmode=$sslmode, $auth', async ({ driver, member, sslmode, auth }) => {
    const writable = member === 'primary';
    const endpoint: Endpoint = { host: '127.0.0.1', port: ports[member], database: 'postgres', sslmode, ...roles[auth] };
    const started = performance.now();
    const result = await runScenario(driver, endpoint, { writable });
    timed.push({ result, wallMs: Math.round(performance.now() - started) });
    const problems = scenarioProblems(result, { ports: [ports[member]], inRecovery: !writable, ssl: sslmode !== 'disable' }, writable);
    expect(problems, JSON.stringify(result, null, 1)).toEqual([]);
  });
});
