/** The router's auth_query role on a test cluster, set up as an operator would with `patroni-router auth-setup`. */
import { authSetupSql } from '../../src/proxy/backend/auth/auth-setup.js';
import { credentials, waitFor, type PatroniCluster } from '../cluster/index.js';

export async function setUpAuthRole(cluster: PatroniCluster, leader: string): Promise<{ user: string; password: string }> {
  const { user, password } = credentials.authRole;
  await cluster.sql(leader, authSetupSql({ authRole: user }));
  // What `\password` does: a SCRAM verifier goes to the server, never the password.
  await cluster.sql(leader, `SET password_encryption = 'scram-sha-256'; ALTER ROLE ${user} PASSWORD '${password}'`);
  for (const m of cluster.members.filter((x) => x.name !== leader)) {
    await waitFor(`${m.name} to replay the auth role`, async () => (await cluster.sql(m.name, `SELECT count(*) FROM pg_proc WHERE proname = 'user_secret'`)) === '1');
  }
  return { user, password };
}

/** The `auth:` block of the router's configuration for that role. */
export function authYaml(password: string = credentials.authRole.password): string {
  return `auth: {user: ${credentials.authRole.user}, password: '${password}', database: postgres, cache_time: 1s}\n`;
}
