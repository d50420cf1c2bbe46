/**
 * Runs the steps of a scenario written in TypeScript (psql, pgbench, node-postgres) one after
 * another, timing each and bounding each by the plan's step timeout. A step that hangs ends the
 * scenario: its session is in an unknown state, so the remaining steps are reported as not run.
 */
import { notRun, type ScenarioPlan } from './scenario-plan.js';
import type { StepName, StepResult } from './scenario-types.js';

/** A step that failed with something to say beyond its message. */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly sqlstate?: string,
  ) {
    super(message);
  }
}

/** Thrown by a step the driver has no native way to do. */
export class Unsupported extends Error {}

/** What a step body returns: the detail line for the report, and a latency where it measures one. */
export type StepBody = () => Promise<string | { detail: string; latencyMs: number }>;

export interface StepDriver {
  /** The body of one step; `connect` must leave a session for the others. */
  step(step: StepName): StepBody;
  /** Called once a step hung: drop the session so nothing lingers. */
  abandon(): void;
}

/** The SQLSTATE of an error a driver raised, when it has one (node-postgres puts it in `code`). */
function sqlstateOf(error: unknown): string | undefined {
  if (error instanceof StepFailure) return error.sqlstate;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

async function timed(step: StepName, body: StepBody, timeoutMs: number): Promise<{ result: StepResult; hung: boolean }> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([body(), hang]);
    if (outcome === 'hung') return { result: { step, ok: false, ms: ms(), error: `no answer within ${timeoutMs} ms` }, hung: true };
    const measured = typeof outcome === 'string' ? { detail: outcome } : outcome;
    return { result: { step, ok: true, ms: ms(), ...measured }, hung: false };
  } catch (error) {
    if (error instanceof Unsupported) return { result: { step, ok: false, ms: 0, unsupported: error.message }, hung: false };
    const sqlstate = sqlstateOf(error);
    const message = error instanceof Error ? error.message : String(error);
    return { result: { step, ok: false, ms: ms(), error: message, ...(sqlstate ? { sqlstate } : {}) }, hung: false };
  } finally {
    clearTimeout(timer);
  }
}

export async function runSteps(plan: ScenarioPlan, driver: StepDriver): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const [i, step] of plan.steps.entries()) {
    const { result, hung } = await timed(step, driver.step(step), plan.stepTimeoutMs);
    results.push(result);
    const rest = plan.steps.slice(i + 1);
    if (hung) {
      driver.abandon();
      return [...results, ...notRun(rest, `${step} hung`)];
    }
    if (step === 'connect' && !result.ok) return [...results, ...notRun(rest, 'connect failed')];
  }
  return results;
}
