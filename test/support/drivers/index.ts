/**
 * Real drivers as test clients: `runScenario(driver, endpoint)` runs the shared scenario
 * (scenario-plan.ts) with one driver against one endpoint (a member or a router listener) and
 * says, step by step, what happened and how long it took.
 */
import { nodePostgresScenario } from './node-postgres.js';
import { pgbenchScenario } from './pgbench.js';
import { pgjdbcScenario } from './pgjdbc.js';
import { psqlScenario } from './psql.js';
import { psycopg2Scenario } from './psycopg2.js';
import { psycopg3Scenario } from './psycopg3.js';
import { scenarioPlan, type ScenarioPlan } from './scenario-plan.js';
import type { DriverName, Endpoint, ScenarioOptions, ScenarioResult } from './scenario-types.js';

export * from './scenario-types.js';
export { pgjdbcClasses } from './pgjdbc.js';

const scenarios: Record<DriverName, (plan: ScenarioPlan) => Promise<ScenarioResult>> = {
  psql: psqlScenario,
  pgbench: pgbenchScenario,
  'node-postgres': nodePostgresScenario,
  psycopg2: psycopg2Scenario,
  psycopg3: psycopg3Scenario,
  pgjdbc: pgjdbcScenario,
};

export function runScenario(driver: DriverName, endpoint: Endpoint, opts: ScenarioOptions = {}): Promise<ScenarioResult> {
  return scenarios[driver](scenarioPlan(driver, endpoint, opts));
}
