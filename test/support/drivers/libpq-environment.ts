/**
 * The environment psql and pgbench (libpq) connect with: the endpoint as PG* variables, and
 * nothing inherited from the test's own environment, so a stray PGSSLMODE or service file on
 * the machine cannot change what a cell tests.
 */
import type { ScenarioPlan } from './scenario-plan.js';

export function libpqEnvironment(plan: ScenarioPlan, extraOptions?: string): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')));
  const { endpoint } = plan;
  const options = [endpoint.options, extraOptions].filter((o) => o !== undefined && o !== '').join(' ');
  return {
    ...inherited,
    PGHOST: endpoint.host,
    PGPORT: String(endpoint.port),
    PGUSER: endpoint.user,
    PGDATABASE: endpoint.database,
    PGSSLMODE: endpoint.sslmode,
    PGAPPNAME: plan.applicationName,
    PGCONNECT_TIMEOUT: String(plan.connectTimeoutSeconds),
    // No password given means none is wanted: never read ~/.pgpass (a missing passfile is
    // silently skipped; /dev/null would draw a warning).
    ...(endpoint.password !== undefined ? { PGPASSWORD: endpoint.password } : { PGPASSFILE: '/nonexistent/patroni-router-drivers.pgpass' }),
    ...(options !== '' ? { PGOPTIONS: options } : {}),
  };
}
