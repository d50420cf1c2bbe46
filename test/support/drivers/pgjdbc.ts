/**
 * The pgjdbc scenario: PgjdbcScenario.java against Debian's pgjdbc jar, compiled once per
 * source (pgjdbc-classes.ts).
 */
import { pgjdbcClasses, pgjdbcJvm } from './pgjdbc-classes.js';
import type { ScenarioPlan } from './scenario-plan.js';
import { runScenarioProgram } from './scenario-program.js';
import type { ScenarioResult } from './scenario-types.js';

export { pgjdbcClasses, pgjdbcJar, pgjdbcJvm } from './pgjdbc-classes.js';

export async function pgjdbcScenario(plan: ScenarioPlan): Promise<ScenarioResult> {
  let classes: string;
  try {
    classes = await pgjdbcClasses();
  } catch (error) {
    return { driver: 'pgjdbc', steps: [{ step: 'connect', ok: false, ms: 0, error: (error as Error).message }] };
  }
  return runScenarioProgram(plan, 'java', pgjdbcJvm(classes, 'PgjdbcScenario'), { cwd: classes });
}
