/**
 * What a matrix cell must show for its scenario to pass: every step ok, except the ones the
 * driver is known to have no native way to do (so a step that silently becomes unsupported
 * still fails), and the server it reached is the one expected, with TLS exactly as expected.
 */
import type { DriverName, ScenarioResult, StepName } from './scenario-types.js';

/** Steps each driver cannot do natively, by whether the endpoint is writable. */
export function knownUnsupported(driver: DriverName, writable: boolean): StepName[] {
  switch (driver) {
    case 'pgbench':
      // No cancel, no row counting; COPY only as COPY FROM STDIN by pgbench -i.
      return writable ? ['cancel', 'big-result'] : ['cancel', 'big-result', 'copy'];
    case 'node-postgres':
      return ['copy'];
    default:
      return [];
  }
}

export interface ExpectedServer {
  /** Ports the session may land on (one member, or the replicas behind a replica listener). */
  ports: number[];
  inRecovery: boolean;
  ssl: boolean;
}

/** Everything wrong with one cell's result; empty when it passed. */
export function scenarioProblems(result: ScenarioResult, expected: ExpectedServer, writable: boolean): string[] {
  const allowed = new Set(knownUnsupported(result.driver, writable));
  const problems: string[] = [];
  for (const s of result.steps) {
    if (s.ok) continue;
    if (s.unsupported !== undefined) {
      if (!allowed.has(s.step)) problems.push(`${s.step}: unexpectedly unsupported (${s.unsupported})`);
      continue;
    }
    problems.push(`${s.step} failed after ${s.ms} ms${s.sqlstate ? ` [${s.sqlstate}]` : ''}: ${s.error ?? '(no error text)'}`);
  }
  for (const step of allowed) {
    if (result.steps.find((s) => s.step === step)?.ok === true) problems.push(`${step}: listed as unsupported but passed; update knownUnsupported`);
  }
  const server = result.server;
  if (result.steps.some((s) => s.step === 'server-info')) {
    if (server === undefined) problems.push('no server info');
    else {
      if (!expected.ports.includes(server.port)) problems.push(`landed on port ${server.port}, expected ${expected.ports.join(' or ')}`);
      if (server.inRecovery !== expected.inRecovery) problems.push(`pg_is_in_recovery() ${server.inRecovery}, expected ${expected.inRecovery}`);
      if (server.ssl !== expected.ssl) problems.push(`ssl ${server.ssl}, expected ${expected.ssl}`);
    }
  }
  return problems;
}
