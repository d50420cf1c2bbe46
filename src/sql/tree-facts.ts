/**
 * One walk over a statement's whole parse tree, collecting what decides read-only-ness.
 *
 * The walk is generic on purpose: it visits every object and array of the JSON rather than
 * the fields we thought of, so a function call, a data-modifying CTE or a locking clause is
 * found wherever the grammar allows it (target list, WHERE, FROM, LATERAL, sublinks, CTEs,
 * window clauses, VALUES, default arguments of a ROWS FROM). It uses an explicit stack: a
 * long generated expression nests deeper than the call stack would allow.
 */
import type { FuncCall, IntoClause, LockingClause } from './parse-tree.js';
import { functionName, type FunctionName } from './parse-tree.js';
import { builtinRule } from './builtin-functions.js';
import type { PinEffect } from './statement-effects.js';

export interface TreeFacts {
  /** The first data-modifying statement anywhere: `insert`, `update`, `delete`, `merge`. */
  write?: string;
  /** The first locking clause: `for-update`, `for-no-key-update`, `for-share`, `for-key-share`. */
  locking?: string;
  into?: IntoClause;
  /** The first built-in that must run on the primary, as written. */
  statefulFunction?: string;
  writabilityProbe?: string;
  /** Pins taken by the functions the statement calls, each once. */
  pins: PinEffect[];
  /** Every other function called, for the catalog to judge. */
  functions: FunctionName[];
}

const WRITE_NODES: ReadonlyMap<string, string> = new Map([
  ['InsertStmt', 'insert'],
  ['UpdateStmt', 'update'],
  ['DeleteStmt', 'delete'],
  ['MergeStmt', 'merge'],
]);

const LOCKING_DETAIL: Readonly<Record<string, string>> = {
  LCS_FORUPDATE: 'for-update',
  LCS_FORNOKEYUPDATE: 'for-no-key-update',
  LCS_FORSHARE: 'for-share',
  LCS_FORKEYSHARE: 'for-key-share',
};

type JsonObject = { readonly [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function collectTreeFacts(root: unknown): TreeFacts {
  const facts: TreeFacts = { pins: [], functions: [] };
  // Each entry is a value and the key it was found under ('' in arrays and at the root).
  const stack: [string, unknown][] = [['', root]];
  while (stack.length > 0) {
    const [key, value] = stack.pop() as [string, unknown];
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(['', value[i]]);
      continue;
    }
    if (!isObject(value)) continue;
    noteNode(facts, key, value);
    // Pushed in reverse so that "first" means first in the text's order.
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const childKey = keys[i] as string;
      const child = value[childKey];
      if (typeof child === 'object' && child !== null) stack.push([childKey, child]);
    }
  }
  return facts;
}

function noteNode(facts: TreeFacts, key: string, body: JsonObject): void {
  const write = WRITE_NODES.get(key);
  if (write !== undefined) facts.write ??= write;
  // The JSON under these keys is, by libpg-query's construction, the node the key names.
  if (key === 'FuncCall') noteCall(facts, body as FuncCall);
  else if (key === 'LockingClause') facts.locking ??= LOCKING_DETAIL[(body as LockingClause).strength ?? ''] ?? 'locking';
  else if (key === 'intoClause') facts.into ??= body as IntoClause;
}

function noteCall(facts: TreeFacts, call: FuncCall): void {
  const builtin = builtinRule(call);
  if (builtin === undefined) {
    const fn = functionName(call);
    // A call whose name we cannot read is judged as an unknown function: primary.
    facts.functions.push(fn ?? { name: '' });
    return;
  }
  if (builtin.rule.kind === 'writability-probe') {
    facts.writabilityProbe ??= builtin.detail;
    return;
  }
  facts.statefulFunction ??= builtin.detail;
  const pin = builtin.rule.pin;
  if (pin !== undefined && !facts.pins.some((p) => p.pin === pin.pin)) facts.pins.push(pin);
}
