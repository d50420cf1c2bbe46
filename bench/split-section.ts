/**
 * The bench's mixed-workload part, from start to stop: a router with a split and a primary
 * listener and Pgpool-II, both started for it and stopped after it, the three endpoints measured
 * interleaved (split-mixed.ts).
 */
import pg from 'pg';
import { freePort, waitFor, type PatroniCluster } from '../test/cluster/index.js';
import type { TeardownStep } from '../test/cluster/script-teardown.js';
import { startPgpool, startRouter, type PgpoolProcess, type RouterProcess } from './proxy-process.js';
import type { SplitSection } from './results.js';
import type { RouterLayout } from './router-config.js';
import { SPLIT_AUTH_ROLE, SPLIT_USER, measureSplit, type SplitTarget } from './split-mixed.js';

export interface SplitSectionPlan {
  clients: readonly number[];
  seconds: number;
  repetitions: number;
  scale: number;
  checkerIntervalMs: number;
}

/** Reads through the split listener reach a replica (the router has the topology and its function catalog). */
async function waitForReplicaReads(port: number, replicaPorts: readonly number[]): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: SPLIT_USER, database: 'postgres', connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await waitFor(
      'reads through the split listener to reach a replica',
      async () => {
        const served = (await client.query<{ port: number }>('SELECT inet_server_port() AS port')).rows[0]?.port;
        if (served === undefined || !replicaPorts.includes(served)) throw new Error(`answered by port ${served}`);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function runSplitSection(
  cluster: PatroniCluster,
  leader: string,
  plan: SplitSectionPlan,
  dir: string,
  teardown: TeardownStep[],
  notes: string[],
  progress: (line: string) => void,
): Promise<SplitSection> {
  const primaryPort = cluster.member(leader).port;
  const replicaPorts = cluster.members.filter((m) => m.name !== leader).map((m) => m.port);
  const section: SplitSection = {
    seconds: plan.seconds,
    repetitions: plan.repetitions,
    clients: [...plan.clients],
    checkerIntervalMs: plan.checkerIntervalMs,
    user: SPLIT_USER,
    primaryPort,
    replicaPorts,
    routerConfig: '',
    pgpoolConfig: '',
    runs: [],
  };
  const [primaryPortR, replicaPortR, adminPort, splitPort, pgpoolPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const layout: RouterLayout = {
    scope: cluster.scope,
    namespace: cluster.namespace,
    etcdEndpoint: cluster.etcd.endpoint,
    primaryPort: primaryPortR,
    replicaPort: replicaPortR,
    adminPort,
    split: { port: splitPort, auth: { user: SPLIT_AUTH_ROLE.user, password: SPLIT_AUTH_ROLE.password, database: 'postgres' } },
  };
  const session = { user: SPLIT_USER, database: 'postgres' };

  progress('mixed workload: starting a router with a split listener');
  let router: RouterProcess | undefined;
  try {
    router = await startRouter(layout, dir, session, 'router-split');
    const started = router;
    teardown.push({ what: 'the router (split)', undo: () => started.stop() });
    section.routerConfig = router.configText.split(SPLIT_AUTH_ROLE.password).join("<the auth role's password>");
    await waitForReplicaReads(splitPort, replicaPorts);
  } catch (error) {
    notes.push(
      `Mixed workload: the router with a split listener could not be started or never sent a read to a replica, so its columns are missing: ${(error as Error).message.split('\n').slice(0, 4).join(' / ')}`,
    );
    await router?.stop();
    router = undefined;
  }

  progress('mixed workload: starting Pgpool-II');
  let pgpool: PgpoolProcess | undefined;
  try {
    pgpool = await startPgpool(
      {
        port: pgpoolPort,
        members: cluster.members.map((m) => ({ host: m.host, port: m.port })),
        children: Math.max(...plan.clients) + 8,
        database: 'postgres',
        checkUser: SPLIT_USER,
      },
      primaryPort,
      session,
    );
    const started = pgpool;
    teardown.push({ what: 'Pgpool-II', undo: () => started.stop() });
    section.pgpoolConfig = pgpool.configText;
    notes.push(
      "Pgpool-II (Debian's package, the bench's own pgpool.conf below) runs in streaming-replication mode with load_balance_mode = on and database_redirect_preference_list sending the reads to a standby (as the split route sends them to a replica), " +
        'and its defaults otherwise: disable_load_balance_on_write = transaction keeps only the reads of an explicit transaction that wrote on the primary, so an autocommit read right after a write goes to a standby, which is what its checker sees; ' +
        "'always' would send every read of a session to the primary after its first write.",
    );
  } catch (error) {
    notes.push(`Mixed workload: Pgpool-II could not be started, so its column is missing: ${(error as Error).message.split('\n').slice(0, 6).join(' / ')}`);
  }

  notes.push(
    `Mixed workload: the checker beside each run is one more session through the same endpoint doing a write and its read every ${plan.checkerIntervalMs} ms at most (fewer when the machine is slower), so each endpoint carries the same extra load; its statements are not counted in the pgbench figures or the members' read/write counts.`,
  );
  const target = (port: number) => ({ host: '127.0.0.1', port, user: SPLIT_USER, database: 'postgres' });
  const endpoints: SplitTarget[] = [
    ...(router
      ? [
          { endpoint: 'router-split' as const, target: target(splitPort), proxyPid: router.pid, metricsUrl: `http://127.0.0.1:${adminPort}/metrics` },
          { endpoint: 'router-primary' as const, target: target(primaryPortR), proxyPid: router.pid },
        ]
      : []),
    ...(pgpool ? [{ endpoint: 'pgpool' as const, target: target(pgpoolPort), proxyPid: pgpool.pid }] : []),
  ];
  try {
    if (endpoints.length > 0) {
      progress(`mixed workload: ${plan.repetitions} repetition(s) of ${plan.seconds} s per endpoint and client count, interleaved`);
      section.runs = await measureSplit(
        endpoints,
        { clients: plan.clients, seconds: plan.seconds, repetitions: plan.repetitions, threads: 2, scale: plan.scale, checkerIntervalMs: plan.checkerIntervalMs, dir },
        cluster,
        leader,
        progress,
      );
    }
  } finally {
    // Neither runs during the other parts of the bench.
    await pgpool?.stop();
    await router?.stop();
  }
  return section;
}
