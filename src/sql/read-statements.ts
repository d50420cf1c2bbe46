/**
 * SELECT / VALUES / TABLE and the DML statements share one judgement: a walk of the whole
 * tree for writes, INTO, locking clauses and functions. COPY and SHOW are judged here too.
 */
import type { CopyStmt, RangeVar, VariableShowStmt } from './parse-tree.js';
import { collectTreeFacts } from './tree-facts.js';
import { WRITABILITY_SETTINGS } from './builtin-functions.js';
import type { PinEffect, StatementEffect } from './statement-effects.js';
import { onPrimary, onReplica, type StatementAnalysis } from './statement-analysis.js';

const tempObject: PinEffect = { kind: 'pin', pin: 'temp-object', scope: 'session' };

/** True for a relation created as temporary: TEMP/TEMPORARY, or placed in pg_temp by name. */
export function isTempRelation(rel: RangeVar | undefined): boolean {
  return rel !== undefined && (rel.relpersistence === 't' || rel.schemaname === 'pg_temp');
}

export function tempPins(created: boolean): readonly PinEffect[] {
  return created ? [tempObject] : [];
}

/**
 * `runs`: the statement is executed now, so the pins its functions take are effects. An
 * EXPLAIN without ANALYZE, or a PREPARE, plans the same tree without running it.
 */
export function readAnalysis(tree: unknown, runs: boolean): StatementAnalysis {
  const facts = collectTreeFacts(tree);
  const effects: StatementEffect[] = [];
  if (runs) {
    if (facts.into !== undefined && isTempRelation(facts.into.rel)) effects.push(tempObject);
    effects.push(...facts.pins);
  }
  if (facts.write !== undefined) return onPrimary('write', facts.write, effects);
  if (facts.into !== undefined) return onPrimary('into', 'select-into', effects);
  if (facts.locking !== undefined) return onPrimary('locking', facts.locking, effects);
  if (facts.statefulFunction !== undefined) return onPrimary('stateful-function', facts.statefulFunction, effects);
  if (facts.writabilityProbe !== undefined) return onPrimary('writability-probe', facts.writabilityProbe, effects);
  return onReplica(facts.functions, effects);
}

/** COPY ... TO STDOUT of a table or a read-only query may use a replica; nothing else may. */
export function copyAnalysis(copy: CopyStmt): StatementAnalysis {
  if (copy.is_from === true) return onPrimary('copy-from');
  if (copy.is_program === true) return onPrimary('copy-file', 'program');
  // TO STDOUT has no filename; TO 'file' runs on, and writes a file of, the server it reaches.
  if (copy.filename !== undefined) return onPrimary('copy-file', 'file');
  if (copy.query !== undefined) return readAnalysis(copy.query, true);
  return onReplica();
}

/** SHOW is a read, except for the settings that tell a primary from a standby. */
export function showAnalysis(show: VariableShowStmt): StatementAnalysis {
  const name = (show.name ?? '').toLowerCase();
  // SHOW ALL includes transaction_read_only and in_hot_standby.
  if (WRITABILITY_SETTINGS.has(name) || name === 'all') return onPrimary('writability-probe', name);
  return onReplica();
}
