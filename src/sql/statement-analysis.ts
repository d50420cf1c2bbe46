/**
 * What one parsed statement is, before the function catalog and the session's prepared
 * statements are consulted. This is the part worth caching: it costs a parse, and it does not
 * change when the catalog is refreshed.
 */
import type { FunctionName } from './parse-tree.js';
import type { StatementEffect } from './statement-effects.js';
import type { PrimaryReason } from './statement-verdict.js';

/**
 * - `replica`: may run on a replica if the functions it calls are safe;
 * - `primary`: must run on the primary;
 * - `any-link`: runs wherever the session is (SET, COMMIT, PREPARE, FETCH): it neither needs
 *   the primary nor makes a batch replica-safe on its own.
 */
export type Placement = 'replica' | 'primary' | 'any-link';

export interface StatementAnalysis {
  readonly placement: Placement;
  readonly reason: PrimaryReason | 'read-only';
  readonly detail?: string;
  readonly effects: readonly StatementEffect[];
  /** Functions for the catalog to judge; they matter only while the placement is `replica`. */
  readonly functions: readonly FunctionName[];
  /** PREPARE name AS query: the query, to be judged when the verdict is made. */
  readonly prepares?: { readonly name: string; readonly statement: string; readonly query: StatementAnalysis };
  /** EXECUTE name: where it goes is where the prepared statement goes. */
  readonly executes?: string;
}

const noFunctions: readonly FunctionName[] = Object.freeze([]);
const noEffects: readonly StatementEffect[] = Object.freeze([]);

export function onReplica(functions: readonly FunctionName[] = noFunctions, effects: readonly StatementEffect[] = noEffects): StatementAnalysis {
  return { placement: 'replica', reason: 'read-only', effects, functions };
}

export function onPrimary(reason: PrimaryReason, detail?: string, effects: readonly StatementEffect[] = noEffects): StatementAnalysis {
  return detail === undefined ? { placement: 'primary', reason, effects, functions: noFunctions } : { placement: 'primary', reason, detail, effects, functions: noFunctions };
}

export function onAnyLink(reason: PrimaryReason, detail: string, effects: readonly StatementEffect[] = noEffects): StatementAnalysis {
  return { placement: 'any-link', reason, detail, effects, functions: noFunctions };
}

/** `AlterTableStmt` → `alter-table`: a statement kind as a verdict detail. */
export function statementKind(nodeType: string): string {
  return nodeType
    .replace(/Stmt$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}
