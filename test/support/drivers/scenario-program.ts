/**
 * Runs a scenario written in another language (the Python and Java drivers): the plan goes in as
 * JSON on stdin, one JSON result line comes out on stdout. The program bounds its own steps, but
 * a driver can block its language's watchdog too (psycopg2's cancel() holds the GIL while it
 * waits for the cancel connection to close), so this side keeps its own per-step deadline from
 * the program's stderr progress lines and kills the process group when a step overruns it. The
 * steps the program had finished are then taken from those lines.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { notRun, type ScenarioPlan } from './scenario-plan.js';
import { stepOrder, type ScenarioResult, type ServerInfo, type StepName, type StepResult } from './scenario-types.js';

/** Where the Python and Java programs live: next to this file. */
export const programDir = fileURLToPath(new URL('.', import.meta.url));

/**
 * A Python scenario program. Debian's interpreter, where the psycopg packages are; -E ignores
 * PYTHON* variables (a pyenv's PYTHONPATH), -s the user's site-packages, -B writes no
 * __pycache__ into the source tree.
 */
export function pythonProgram(script: string): { command: string; args: string[]; cwd: string } {
  return { command: '/usr/bin/python3', args: ['-E', '-s', '-B', script], cwd: programDir };
}

/** JVM start-up on a loaded 2-core machine is the slow part. */
const startupAllowanceMs = 15_000;
/** The program's own watchdog fires at the step timeout; give it this long to report. */
const reportGraceMs = 3_000;

const startedLine = /^step (\S+) started$/;
const resultLine = /^step (\S+) result (\{.*\})$/;

function isStepName(value: unknown): value is StepName {
  return typeof value === 'string' && (stepOrder as readonly string[]).includes(value);
}

function text(from: Record<string, unknown>, name: string): string | undefined {
  const v = from[name];
  return typeof v === 'string' ? v : undefined;
}

/** One step as the program wrote it, checked field by field (it is another process's output). */
function parseStep(value: unknown): StepResult {
  const r = value as Record<string, unknown>;
  if (!isStepName(r['step']) || typeof r['ok'] !== 'boolean' || typeof r['ms'] !== 'number') throw new Error(`bad step ${JSON.stringify(value)}`);
  const out: StepResult = { step: r['step'], ok: r['ok'], ms: r['ms'] };
  if (typeof r['latencyMs'] === 'number') out.latencyMs = r['latencyMs'];
  for (const name of ['detail', 'sqlstate', 'error', 'unsupported'] as const) {
    const v = text(r, name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function parseServer(value: unknown): ServerInfo | undefined {
  const s = value as Record<string, unknown> | undefined;
  if (s === undefined || typeof s['port'] !== 'number' || typeof s['inRecovery'] !== 'boolean' || typeof s['ssl'] !== 'boolean') return undefined;
  return { port: s['port'], inRecovery: s['inRecovery'], ssl: s['ssl'] };
}

function parseResult(line: string, plan: ScenarioPlan): ScenarioResult {
  const raw = JSON.parse(line) as Record<string, unknown>;
  if (raw['driver'] !== plan.driver || !Array.isArray(raw['steps'])) throw new Error(`not a ${plan.driver} result: ${line.slice(0, 200)}`);
  const server = parseServer(raw['server']);
  return { driver: plan.driver, steps: (raw['steps'] as unknown[]).map(parseStep), ...(server ? { server } : {}) };
}

/**
 * The result when the program gave none: its finished steps, the step it was on failed (after
 * `ms` on it), the rest not run.
 */
function lostResult(plan: ScenarioPlan, why: string, stderr: string, ms = 0): ScenarioResult {
  const finished: StepResult[] = [];
  let current: StepName = 'connect';
  for (const line of stderr.split('\n')) {
    const started = startedLine.exec(line)?.[1];
    if (isStepName(started)) current = started;
    const result = resultLine.exec(line)?.[2];
    if (result !== undefined) {
      try {
        finished.push(parseStep(JSON.parse(result)));
      } catch {
        // a torn line from a killed process: that step counts as the one it was on
      }
    }
  }
  const done = new Set(finished.map((s) => s.step));
  const said = stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !startedLine.test(l) && !resultLine.test(l))
    .join('\n')
    .trim();
  const error = `${why}; stderr: ${said.slice(-2_000) || '(nothing but progress)'}`;
  // The step it was on, or (had it reported that one) the next; a program that reported every
  // step and then died still fails, on its last step.
  const failed = done.has(current) ? plan.steps.find((s) => !done.has(s)) : current;
  if (failed === undefined) {
    const last = finished.at(-1);
    return { driver: plan.driver, steps: [...finished.slice(0, -1), ...(last ? [{ ...last, ok: false, error }] : [])] };
  }
  const pending = plan.steps.filter((s) => !done.has(s) && s !== failed);
  return { driver: plan.driver, steps: [...finished, { step: failed, ok: false, ms, error }, ...notRun(pending, `${failed} failed`)] };
}

export function runScenarioProgram(plan: ScenarioPlan, command: string, args: string[], opts: { cwd: string }): Promise<ScenarioResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let overrun: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stepStarted = performance.now();
    const kill = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const deadline = (ms: number, what: string): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        overrun = `${command} killed: ${what} not reported within ${ms} ms`;
        kill();
      }, ms);
    };
    deadline(startupAllowanceMs + plan.stepTimeoutMs + reportGraceMs, 'start-up and the first step');
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => {
      const before = stderr.split('\n').length - 1;
      stderr += c.toString('utf8');
      // Each new "step X started" line restarts the clock for that step.
      for (const line of stderr.split('\n').slice(before, -1)) {
        const step = startedLine.exec(line)?.[1];
        if (step === undefined) continue;
        stepStarted = performance.now();
        deadline(plan.stepTimeoutMs + reportGraceMs, `step ${step}`);
      }
    });
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(plan));
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve(lostResult(plan, `could not run ${command}: ${error.message}`, stderr, 0));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .at(-1);
      const how = overrun ?? `${command} ${signal !== null ? `killed by ${signal}` : `exited ${code}`}`;
      const onStep = Math.round(performance.now() - stepStarted);
      if (line === undefined) return resolve(lostResult(plan, `${how} without a result line`, stderr, onStep));
      let result: ScenarioResult;
      try {
        result = parseResult(line, plan);
      } catch (error) {
        return resolve(lostResult(plan, `${how}; unreadable result: ${(error as Error).message}`, stderr, onStep));
      }
      // Whatever the program said beyond its progress lines belongs with its failures.
      const said = stderr
        .split('\n')
        .filter((l) => l.trim() !== '' && !startedLine.test(l) && !resultLine.test(l))
        .join('\n')
        .trim();
      if (said !== '') for (const s of result.steps) if (!s.ok && s.error !== undefined) s.error += `; stderr: ${said.slice(-1_000)}`;
      resolve(result);
    });
  });
}
