/**
 * The cluster a chaos run drives: the harness's 3-member etcd + Patroni + PostgreSQL 15 on
 * loopback, with the router's auth_query role, pgbench's tables and the writers' table, all
 * granted to the SCRAM role the clients log in as (so the router can move their sessions).
 */
import { initialisePgbench } from '../../bench/pgbench-runner.js';
import { credentials, startCluster, waitFor, type PatroniCluster } from '../../test/cluster/index.js';
import { setUpAuthRole } from '../../test/support/auth-role.js';

export interface ChaosCluster {
  cluster: PatroniCluster;
  leader: string;
  /** The router's auth_query role. */
  auth: { user: string; password: string };
  /** Whom the chaos clients log in as through the router. */
  login: { user: string; password: string };
  /** A trust role with no special rights, for fillers and hostile clients' startups. */
  plainUser: string;
}

/** Small: pgbench's load is paced, the tables only need rows to update. */
export const PGBENCH_SCALE = 2;
const PGBENCH_TABLES = ['pgbench_accounts', 'pgbench_branches', 'pgbench_tellers', 'pgbench_history'];

export async function startChaosCluster(progress: (line: string) => void, onStarted: (cluster: PatroniCluster) => void): Promise<ChaosCluster> {
  progress('starting etcd and a 3-member Patroni cluster');
  const cluster = await startCluster({ members: 3 });
  onStarted(cluster);
  progress(`cluster ${cluster.scope} in ${cluster.dir}: ${cluster.members.map((m) => `${m.name} pg:${m.port} rest:${m.restPort}`).join(', ')}, etcd ${cluster.etcd.endpoint}`);
  const leader = await cluster.waitForHealthy();
  const auth = await setUpAuthRole(cluster, leader);
  const login = credentials.scram;
  await cluster.sql(leader, `CREATE TABLE chaos_writes (writer text NOT NULL, seq int NOT NULL); GRANT ALL ON chaos_writes TO ${login.user}`);
  progress(`pgbench -i -s ${PGBENCH_SCALE} on ${leader}`);
  const member = cluster.member(leader);
  await initialisePgbench({ host: member.host, port: member.port, user: credentials.superuser.user, database: 'postgres' }, PGBENCH_SCALE);
  await cluster.sql(leader, `GRANT ALL ON ${PGBENCH_TABLES.join(', ')} TO ${login.user}`);
  // psql -c runs several statements as one transaction, which VACUUM refuses.
  await cluster.sql(leader, 'VACUUM ANALYZE');
  for (const m of cluster.members.filter((x) => x.name !== leader)) {
    await waitFor(
      `${m.name} to replay the chaos tables and grants`,
      async () =>
        (await cluster.sql(
          m.name,
          `SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = '${login.user}' AND table_name IN ('chaos_writes', ${PGBENCH_TABLES.map((t) => `'${t}'`).join(', ')}) AND privilege_type = 'INSERT'`,
        )) === String(PGBENCH_TABLES.length + 1),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }
  return { cluster, leader, auth, login, plainUser: credentials.trust.user };
}
