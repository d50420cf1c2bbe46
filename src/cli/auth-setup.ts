import { parseArgs } from 'node:util';
import { authHbaLine, authSetupSql, DEFAULT_AUTH_ROLE, DEFAULT_AUTH_SCHEMA } from '../proxy/backend/auth/auth-setup.js';

export const AUTH_SETUP_USAGE = 'patroni-router auth-setup [--role NAME] [--schema NAME] [--database DB] [--router-address CIDR] [--include-superusers]';

/**
 * `patroni-router auth-setup`: prints the SQL that creates the auth_query role and function
 * (run it once as a superuser on the primary), and the pg_hba line for the router. Prints only;
 * it connects nowhere.
 */
export function runAuthSetup(argv: string[], out: (line: string) => void, err: (line: string) => void): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        role: { type: 'string' },
        schema: { type: 'string' },
        database: { type: 'string' },
        'router-address': { type: 'string' },
        'include-superusers': { type: 'boolean' },
      },
      allowPositionals: false,
    });
  } catch (error) {
    err(`${(error as Error).message}\nusage: ${AUTH_SETUP_USAGE}`);
    return 2;
  }
  const role = parsed.values.role ?? DEFAULT_AUTH_ROLE;
  const schema = parsed.values.schema ?? DEFAULT_AUTH_SCHEMA;
  const database = parsed.values.database ?? 'postgres';
  try {
    out(authSetupSql({ authRole: role, schema, includeSuperusers: parsed.values['include-superusers'] === true }).trimEnd());
    out('');
    out(`-- pg_hba.conf (in Patroni: postgresql.pg_hba), above broader lines:`);
    out(`--   ${authHbaLine({ database, address: parsed.values['router-address'] ?? '<router address>/32', authRole: role })}`);
    out('-- The router configuration:');
    out(`--   auth: {user: ${role}, password_file: /etc/patroni-router/auth-password, database: ${database}, schema: ${schema}}`);
  } catch (error) {
    err((error as Error).message);
    return 2;
  }
  return 0;
}
