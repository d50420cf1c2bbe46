/**
 * The psycopg 3 scenario: psycopg-scenario.py, run with Debian's /usr/bin/python3 because that
 * is where python3-psycopg is installed (an earlier python3 on PATH, e.g. pyenv's, lacks it).
 */
import type { ScenarioPlan } from './scenario-plan.js';
import { pythonProgram, runScenarioProgram } from './scenario-program.js';
import type { ScenarioResult } from './scenario-types.js';

export function psycopg3Scenario(plan: ScenarioPlan): Promise<ScenarioResult> {
  const { command, args, cwd } = pythonProgram('psycopg-scenario.py');
  return runScenarioProgram(plan, command, args, { cwd });
}
