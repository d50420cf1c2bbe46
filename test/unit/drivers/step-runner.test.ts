import { describe, expect, it } from 'vitest';
import { scenarioPlan } from '../../support/drivers/scenario-plan.js';
import type { StepName } from '../../support/drivers/scenario-types.js';
import { runSteps, StepFailure, Unsupported, type StepBody } from '../../support/drivers/step-runner.js';

const endpoint = { host: '127.0.0.1', port: 5432, user: 'u', database: 'd', sslmode: 'disable' as const };

function driver(bodies: Partial<Record<StepName, StepBody>>): { step: (s: StepName) => StepBody; abandon: () => void; abandoned: () => number } {
  let abandoned = 0;
  return {
    step: (s) => bodies[s] ?? (async () => `${s} done`),
    abandon: () => void abandoned++,
    abandoned: () => abandoned,
  };
}

describe('scenario plan', () => {
  it('always runs connect first and keeps the canonical order whatever order the steps are asked in', () => {
    expect(scenarioPlan('psql', endpoint, { steps: ['copy', 'cancel'] }).steps).toEqual(['connect', 'cancel', 'copy']);
    expect(scenarioPlan('psql', endpoint).steps).toEqual(['connect', 'server-info', 'prepared', 'transaction', 'cancel', 'big-result', 'copy']);
  });

  it('keeps the driver connect timeout inside the step timeout', () => {
    expect(scenarioPlan('psql', endpoint).connectTimeoutSeconds).toBe(10);
    expect(scenarioPlan('psql', endpoint, { timeoutMs: 1_000 }).connectTimeoutSeconds).toBe(2);
  });
});

describe('runSteps', () => {
  it('times each step and keeps its detail and latency', async () => {
    const plan = scenarioPlan('psql', endpoint, { steps: ['cancel'] });
    const steps = await runSteps(plan, driver({ cancel: async () => ({ detail: 'cancelled', latencyMs: 4 }) }));
    expect(steps).toEqual([
      { step: 'connect', ok: true, ms: expect.any(Number), detail: 'connect done' },
      { step: 'cancel', ok: true, ms: expect.any(Number), detail: 'cancelled', latencyMs: 4 },
    ]);
  });

  it('reports failures with their SQLSTATE and unsupported steps with their reason, and goes on', async () => {
    const plan = scenarioPlan('psql', endpoint, { steps: ['prepared', 'copy', 'cancel'] });
    const steps = await runSteps(
      plan,
      driver({
        prepared: async () => {
          throw Object.assign(new Error('no such statement'), { code: '26000' });
        },
        cancel: async () => {
          throw new StepFailure('too slow', '57014');
        },
        copy: () => {
          throw new Unsupported('no COPY');
        },
      }),
    );
    expect(steps.map((s) => [s.step, s.ok, s.sqlstate, s.error, s.unsupported])).toEqual([
      ['connect', true, undefined, undefined, undefined],
      ['prepared', false, '26000', 'no such statement', undefined],
      ['cancel', false, '57014', 'too slow', undefined],
      ['copy', false, undefined, undefined, 'no COPY'],
    ]);
  });

  it('stops after a failed connect', async () => {
    const plan = scenarioPlan('psql', endpoint, { steps: ['copy'] });
    const steps = await runSteps(plan, driver({ connect: () => Promise.reject(new Error('refused')) }));
    expect(steps).toEqual([
      { step: 'connect', ok: false, ms: expect.any(Number), error: 'refused' },
      { step: 'copy', ok: false, ms: 0, error: 'not run: connect failed' },
    ]);
  });

  it('bounds a hanging step, abandons the session and does not run the rest', async () => {
    const plan = scenarioPlan('psql', endpoint, { steps: ['cancel', 'copy'], timeoutMs: 200 });
    const d = driver({ cancel: () => new Promise(() => {}) });
    const started = Date.now();
    const steps = await runSteps(plan, d);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(steps.map((s) => [s.step, s.ok, s.error])).toEqual([
      ['connect', true, undefined],
      ['cancel', false, 'no answer within 200 ms'],
      ['copy', false, 'not run: cancel hung'],
    ]);
    expect(d.abandoned()).toBe(1);
  });
});
