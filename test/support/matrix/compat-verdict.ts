/**
 * Everything wrong with one compatibility cell's scenario result, given what the cell should
 * show (compat-expectation.ts) and the ports of its cluster's members. Empty when it passed.
 */
import type { ScenarioResult } from '../drivers/scenario-types.js';
import { scenarioProblems } from '../drivers/scenario-verdict.js';
import type { Expectation } from './compat-expectation.js';

export interface MemberPorts {
  primary: number;
  replica: number;
}

export function cellProblems(result: ScenarioResult, expected: Expectation, ports: MemberPorts): string[] {
  if (expected.outcome === 'works') {
    const server = { ports: [expected.writable ? ports.primary : ports.replica], inRecovery: expected.inRecovery, ssl: expected.ssl };
    return scenarioProblems(result, server, expected.writable);
  }
  // A refusal is the client's own, at connect, with its own words; nothing else may have run.
  const [connect, ...rest] = result.steps;
  if (connect === undefined || connect.step !== 'connect') return ['no connect step'];
  if (connect.ok) return [`connect succeeded; expected the client to refuse (${expected.why})`];
  const problems: string[] = [];
  if (!expected.error.test(connect.error ?? '')) problems.push(`connect failed with "${connect.error ?? '(no error text)'}", expected ${String(expected.error)} (${expected.why})`);
  const ran = rest.filter((s) => s.ok);
  if (ran.length > 0) problems.push(`steps ran after a refused connect: ${ran.map((s) => s.step).join(', ')}`);
  return problems;
}
