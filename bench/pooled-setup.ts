/**
 * What the failover rounds' pooled writers need on the bench's cluster: the router's auth_query
 * role (as `patroni-router auth-setup` prints it, with a SCRAM verifier), so the router can log
 * the pool's sessions in again on the new primary, and the pool's user allowed to write.
 */
import { authSetupSql } from '../src/proxy/backend/auth/auth-setup.js';
import { credentials } from '../test/cluster/credentials.js';
import { waitFor } from '../test/cluster/wait-for.js';
import { WRITES_TABLE } from './writer.js';

/**
 * The pool logs in as scramuser: the harness's 'mixed' pg_hba makes it scram-sha-256, so the
 * router learns its ClientKey from the SCRAM exchange and the stored key the auth_query returns,
 * and logs in again with it (the path a real deployment takes; trust would need nothing).
 */
export const POOL_USER = credentials.scram;
export const AUTH_ROLE = credentials.authRole;

/** The statements that set up the auth_query role with a SCRAM verifier for its password. */
export function authRoleSql(): string[] {
  return [
    authSetupSql({ authRole: AUTH_ROLE.user }),
    // What `\password` does: a SCRAM verifier goes to the server, never the password.
    `SET password_encryption = 'scram-sha-256'; ALTER ROLE ${AUTH_ROLE.user} PASSWORD '${AUTH_ROLE.password}'`,
  ];
}

export interface PooledCluster {
  sql(member: string, query: string): Promise<string>;
  members: ReadonlyArray<{ name: string }>;
}

/** On the leader (after the writes table exists); waits until every replica has replayed it. */
export async function preparePooledWriters(cluster: PooledCluster, leader: string): Promise<void> {
  for (const statement of authRoleSql()) await cluster.sql(leader, statement);
  await cluster.sql(leader, `GRANT SELECT, INSERT ON ${WRITES_TABLE} TO ${POOL_USER.user}; GRANT USAGE ON SEQUENCE ${WRITES_TABLE}_id_seq TO ${POOL_USER.user}`);
  for (const m of cluster.members.filter((x) => x.name !== leader)) {
    await waitFor(
      `${m.name} to replay the pooled writers' setup`,
      async () => {
        const seen = await cluster.sql(
          m.name,
          `SELECT (SELECT count(*) FROM pg_proc WHERE proname = 'user_secret') || '|' || has_table_privilege('${POOL_USER.user}', '${WRITES_TABLE}', 'INSERT')`,
        );
        if (seen !== '1|true') throw new Error(`auth function|insert privilege: ${seen}`);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  }
}
