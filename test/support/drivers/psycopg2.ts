/**
 * The psycopg2 scenario: psycopg2-scenario.py, run with Debian's /usr/bin/python3 because that
 * is where python3-psycopg2 is installed (an earlier python3 on PATH, e.g. pyenv's, lacks it).
 */
import type { ScenarioPlan } from './scenario-plan.js';
import { pythonProgram, runScenarioProgram } from './scenario-program.js';
import type { ScenarioResult } from './scenario-types.js';

export function psycopg2Scenario(plan: ScenarioPlan): Promise<ScenarioResult> {
  const { command, args, cwd } = pythonProgram('psycopg2-scenario.py');
  return runScenarioProgram(plan, command, args, { cwd });
}
