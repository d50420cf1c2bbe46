import { describe, expect, it } from 'vitest';
import type { ScenarioResult, StepResult } from '../../support/drivers/scenario-types.js';
import { timingTable } from '../../support/drivers/timing-table.js';

const ok = (step: StepResult['step'], ms: number, latencyMs?: number): StepResult => ({ step, ok: true, ms, ...(latencyMs !== undefined ? { latencyMs } : {}) });

function run(driver: ScenarioResult['driver'], steps: StepResult[], wallMs: number): { result: ScenarioResult; wallMs: number } {
  return { result: { driver, steps }, wallMs };
}

describe('timing table', () => {
  const table = timingTable([
    run('psql', [ok('connect', 30), ok('cancel', 1_004, 4)], 1_300),
    run('psql', [ok('connect', 50), ok('cancel', 1_010, 10)], 1_500),
    run('psql', [ok('connect', 40), { step: 'cancel', ok: false, ms: 20_000, error: 'no answer' }], 21_000),
    run('pgbench', [ok('connect', 5), { step: 'cancel', ok: false, ms: 0, unsupported: 'no cancel' }], 300),
  ]);
  const [header, psql, pgbench, legend] = table.split('\n');

  it('has one row per driver, in the order they first ran, and a legend', () => {
    expect(header).toMatch(/^driver\s+cells\s+connect\s+server-info\s+prepared\s+transaction\s+cancel \(latency\)\s+big-result\s+copy\s+scenario$/);
    expect(psql).toMatch(/^psql\s+3\s/);
    expect(pgbench).toMatch(/^pgbench\s+1\s/);
    expect(legend).toMatch(/median/);
  });

  it('shows medians, the cancel latency rather than the step time, failures and unsupported steps', () => {
    // connect median of 30/50/40; cancel latency median of the two that worked (4, 10) -> 7; one failure.
    expect(psql).toMatch(/^psql\s+3\s+40\s+-\s+-\s+-\s+7 FAIL x1\s+-\s+-\s+1500$/);
    expect(pgbench).toMatch(/^pgbench\s+1\s+5\s+-\s+-\s+-\s+n\/a\s+-\s+-\s+300$/);
  });

  it('says FAIL alone when no cell managed the step', () => {
    const only = timingTable([run('pgjdbc', [{ step: 'connect', ok: false, ms: 3_000, error: 'timeout' }], 3_500)]).split('\n')[1];
    expect(only).toMatch(/^pgjdbc\s+1\s+FAIL x1\s/);
  });
});
