import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { scenarioPlan } from '../../support/drivers/scenario-plan.js';
import { runScenarioProgram } from '../../support/drivers/scenario-program.js';

// Stand-ins for the Python and Java programs: short Python snippets that speak the same
// protocol (plan on stdin, progress on stderr, one result line on stdout), or break it.
const endpoint = { host: '127.0.0.1', port: 5432, user: 'u', database: 'd', sslmode: 'disable' as const };
const python = '/usr/bin/python3';

function program(source: string, timeoutMs = 20_000, steps: Array<'copy' | 'cancel'> = ['copy']): ReturnType<typeof runScenarioProgram> {
  const plan = scenarioPlan('psycopg3', endpoint, { steps, timeoutMs });
  return runScenarioProgram(plan, python, ['-c', source], { cwd: os.tmpdir() });
}

describe('runScenarioProgram', () => {
  it('reads the result line and the server info, checking every field', async () => {
    const result = await program(`
import json, sys
plan = json.load(sys.stdin)
print(json.dumps({"driver": plan["driver"], "server": {"port": 5432, "inRecovery": True, "ssl": False},
  "steps": [{"step": "connect", "ok": True, "ms": 3, "detail": plan["endpoint"]["user"], "junk": 1},
            {"step": "copy", "ok": False, "ms": 0, "unsupported": "no"}]}))`);
    expect(result).toEqual({
      driver: 'psycopg3',
      server: { port: 5432, inRecovery: true, ssl: false },
      steps: [
        { step: 'connect', ok: true, ms: 3, detail: 'u' },
        { step: 'copy', ok: false, ms: 0, unsupported: 'no' },
      ],
    });
  });

  it('adds what the program said on stderr to its failed steps', async () => {
    const result = await program(`
import json, sys
print("Traceback: something odd", file=sys.stderr)
print(json.dumps({"driver": "psycopg3", "steps": [{"step": "connect", "ok": False, "ms": 1, "error": "refused"}]}))`);
    expect(result.steps[0]?.error).toBe('refused; stderr: Traceback: something odd');
  });

  it('kills a program stuck in a step and keeps the steps it had finished', async () => {
    const started = Date.now();
    const result = await program(
      `
import sys, time
print("step connect started", file=sys.stderr, flush=True)
print('step connect result {"step": "connect", "ok": true, "ms": 5, "detail": "up"}', file=sys.stderr, flush=True)
print("step cancel started", file=sys.stderr, flush=True)
time.sleep(60)`,
      300,
      ['cancel', 'copy'],
    );
    // 300 ms step timeout + the 3 s the program's own watchdog is given to report.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.steps.map((s) => [s.step, s.ok])).toEqual([
      ['connect', true],
      ['cancel', false],
      ['copy', false],
    ]);
    expect(result.steps[1]?.error).toMatch(/killed: step cancel not reported within 3300 ms without a result line/);
    expect(result.steps[2]?.error).toBe('not run: cancel failed');
  });

  it('reports a program that dies without a result, with its stderr', async () => {
    const result = await program('import sys; print("boom", file=sys.stderr); sys.exit(3)');
    expect(result.steps[0]).toMatchObject({ step: 'connect', ok: false });
    expect(result.steps[0]?.error).toMatch(/exited 3 without a result line; stderr: boom/);
    expect(result.steps[1]).toMatchObject({ step: 'copy', ok: false, error: 'not run: connect failed' });
  });

  it('fails the last step of a program that reported every step and then died', async () => {
    const result = await program(`
import sys
for step in ("connect", "copy"):
    print("step %s started" % step, file=sys.stderr)
    print('step %s result {"step": "%s", "ok": true, "ms": 1}' % (step, step), file=sys.stderr)
sys.exit(9)`);
    expect(result.steps.map((s) => [s.step, s.ok])).toEqual([
      ['connect', true],
      ['copy', false],
    ]);
    expect(result.steps[1]?.error).toMatch(/exited 9 without a result line/);
  });

  it('reports a result line for another driver as unreadable', async () => {
    const result = await program('print(\'{"driver": "pgjdbc", "steps": []}\')');
    expect(result.steps[0]?.error).toMatch(/unreadable result: not a psycopg3 result/);
  });
});
