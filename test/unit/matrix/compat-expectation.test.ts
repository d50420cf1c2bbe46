import { describe, expect, it } from 'vitest';
import type { ScenarioResult, StepResult } from '../../support/drivers/scenario-types.js';
import { compatAxes, meaningful, type CompatCell } from '../../support/matrix/compat-axes.js';
import { expectedOutcome } from '../../support/matrix/compat-expectation.js';
import { cellProblems } from '../../support/matrix/compat-verdict.js';
import { fullProduct } from '../../support/matrix/pairwise.js';

const base: CompatCell = { patroni: '3', memberSsl: 'on', restApi: 'http', hba: 'scram-sha-256', routerTls: 'passthrough', sslmode: 'prefer', driver: 'psql', listener: 'primary' };
const cell = (over: Partial<CompatCell>): CompatCell => ({ ...base, ...over });

describe('expectedOutcome', () => {
  it('a connecting cell lands on the listener member, with TLS at the member exactly when it has ssl on', () => {
    expect(expectedOutcome(base)).toEqual({ outcome: 'works', ssl: true, inRecovery: false, writable: true });
    expect(expectedOutcome(cell({ listener: 'replica' }))).toEqual({ outcome: 'works', ssl: true, inRecovery: true, writable: false });
    // pass-through, plain client: the router reads the startup and its backend mode prefer finds TLS
    expect(expectedOutcome(cell({ sslmode: 'disable' }))).toMatchObject({ outcome: 'works', ssl: true });
    // pass-through, prefer, ssl off: the member's N, then plain text
    expect(expectedOutcome(cell({ memberSsl: 'off' }))).toMatchObject({ outcome: 'works', ssl: false });
    // terminate: the member sees the router's link
    expect(expectedOutcome(cell({ routerTls: 'terminate', sslmode: 'require', memberSsl: 'off' }))).toMatchObject({ outcome: 'works', ssl: false });
    expect(expectedOutcome(cell({ routerTls: 'terminate', sslmode: 'disable', memberSsl: 'on' }))).toMatchObject({ outcome: 'works', ssl: true });
  });

  it('a client insisting on TLS through pass-through to members without ssl refuses by itself', () => {
    const refused = expectedOutcome(cell({ memberSsl: 'off', sslmode: 'require', driver: 'pgjdbc' }));
    expect(refused).toMatchObject({ outcome: 'refused' });
    if (refused.outcome !== 'refused') throw new Error('expected a refusal');
    for (const message of ['server does not support SSL, but SSL was required', 'The server does not support SSL.', 'The server does not support SSL connections'])
      expect(refused.error.test(message)).toBe(true);
    // node-postgres has no plain fallback for prefer
    expect(expectedOutcome(cell({ memberSsl: 'off', driver: 'node-postgres' }))).toMatchObject({ outcome: 'refused' });
    expect(expectedOutcome(cell({ memberSsl: 'off', driver: 'node-postgres', sslmode: 'disable' }))).toMatchObject({ outcome: 'works', ssl: false });
  });

  it('refuses in exactly the pass-through, ssl-off, TLS-insisting cells of the product', () => {
    const refused = fullProduct(compatAxes, meaningful).filter((c) => expectedOutcome(c).outcome === 'refused');
    // 2 x 2 x 3 cluster shapes with ssl off, x 2 listeners, x (6 drivers with require + node-postgres with prefer)
    expect(refused).toHaveLength(2 * 2 * 3 * 2 * 7);
    expect(refused.every((c) => c.routerTls === 'passthrough' && c.memberSsl === 'off' && c.sslmode !== 'disable')).toBe(true);
  });
});

const ports = { primary: 5432, replica: 5433 };
const step = (over: Partial<StepResult> & Pick<StepResult, 'step'>): StepResult => ({ ok: true, ms: 1, ...over });
const everyStep = (): StepResult[] => (['connect', 'server-info', 'prepared', 'transaction', 'cancel', 'big-result', 'copy'] as const).map((s) => step({ step: s }));

describe('cellProblems', () => {
  it('a working cell: the scenario verdict with the listener member', () => {
    const result: ScenarioResult = { driver: 'psql', steps: everyStep(), server: { port: 5433, inRecovery: true, ssl: false } };
    expect(cellProblems(result, expectedOutcome(cell({ listener: 'replica', memberSsl: 'off' })), ports)).toEqual([]);
    expect(cellProblems(result, expectedOutcome(cell({ listener: 'replica' })), ports)).toEqual(['ssl false, expected true']);
    expect(cellProblems(result, expectedOutcome(cell({ memberSsl: 'off' })), ports)).toEqual(['landed on port 5433, expected 5432', 'pg_is_in_recovery() true, expected false']);
  });

  it("a refused cell passes only on the client's own refusal at connect", () => {
    const expected = expectedOutcome(cell({ memberSsl: 'off', sslmode: 'require' }));
    const refusedBy = (error: string): ScenarioResult => ({
      driver: 'psql',
      steps: [step({ step: 'connect', ok: false, error }), step({ step: 'server-info', ok: false, error: 'not run: connect failed' })],
    });
    expect(cellProblems(refusedBy('psql: error: connection to server at "127.0.0.1", port 1 failed: server does not support SSL, but SSL was required'), expected, ports)).toEqual(
      [],
    );
    expect(cellProblems(refusedBy('timeout expired'), expected, ports)).toEqual([expect.stringContaining('connect failed with "timeout expired"')]);
    expect(cellProblems({ driver: 'psql', steps: everyStep() }, expected, ports)).toEqual([expect.stringContaining('connect succeeded')]);
  });
});
