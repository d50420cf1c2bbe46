/**
 * The verdict for a whole text: its statements' analyses judged against the function catalog
 * and the session's prepared statements, then folded into one destination.
 *
 * A multi-statement simple query is one unit. Any statement that needs the primary sends all
 * of it there; statements that run on any link (SET, COMMIT, ...) go along with the others;
 * effects are listed in order. The fold also follows the transaction the text opens: a text
 * that leaves open a transaction not declared READ ONLY goes to the primary, because what
 * comes next in that transaction might write. (It assumes the text starts outside a
 * transaction block: inside one, the router keeps the transaction's link whatever this says.)
 */
import type { FunctionCatalog } from './function-catalog.js';
import { judgeFunction } from './function-catalog.js';
import type { FunctionName } from './parse-tree.js';
import type { StatementAnalysis } from './statement-analysis.js';
import type { StatementEffect } from './statement-effects.js';
import type { PrimaryReason, StatementVerdict } from './statement-verdict.js';

/** The session's prepared statements by name (the unnamed one is ''), as far as it knows them. */
export type PreparedStatementLookup = (name: string) => StatementVerdict | undefined;

const noPrepared: PreparedStatementLookup = () => undefined;

/** A statement judged: analysis plus catalog plus prepared statements. */
interface JudgedStatement {
  readonly placement: StatementAnalysis['placement'];
  readonly reason: PrimaryReason | 'read-only';
  readonly detail?: string;
  readonly effects: readonly StatementEffect[];
}

export function batchVerdict(analyses: readonly StatementAnalysis[], catalog: FunctionCatalog, prepared: PreparedStatementLookup = noPrepared): StatementVerdict {
  if (analyses.length === 0) {
    return freezeVerdict({ destination: 'primary', reason: 'empty', anyLink: true, effects: [], effectsKnown: true, statementCount: 0 });
  }
  // PREPARE, DEALLOCATE and DISCARD ALL earlier in the same text shadow what the session knew.
  const preparedHere = new Map<string, StatementVerdict | undefined>();
  let sessionPrepared = prepared;
  const lookup: PreparedStatementLookup = (name) => (preparedHere.has(name) ? preparedHere.get(name) : sessionPrepared(name));

  const effects: StatementEffect[] = [];
  let primary: JudgedStatement | undefined;
  let firstAnyLink: JudgedStatement | undefined;
  let sawReplica = false;
  let open: 'none' | 'read-only' | 'maybe-read-write' = 'none';
  let openedBy: JudgedStatement | undefined;

  for (const analysis of analyses) {
    const judged = judge(analysis, catalog, lookup);
    effects.push(...judged.effects);
    if (judged.placement === 'primary') primary ??= judged;
    else if (judged.placement === 'replica') sawReplica = true;
    else firstAnyLink ??= judged;

    for (const effect of judged.effects) {
      if (effect.kind === 'prepare') preparedHere.set(effect.name, effect.verdict);
      else if (effect.kind === 'deallocate' && effect.name !== undefined) preparedHere.set(effect.name, undefined);
      else if ((effect.kind === 'deallocate' && effect.name === undefined) || (effect.kind === 'discard' && effect.target === 'all')) {
        sessionPrepared = noPrepared;
        preparedHere.clear();
      }
      const next = followTransaction(open, effect);
      if (next !== open && next === 'maybe-read-write') openedBy = judged;
      open = next;
    }
  }

  const common = { effects, effectsKnown: true, statementCount: analyses.length };
  if (primary !== undefined) return freezeVerdict({ ...onPrimaryBecause(primary), anyLink: false, ...common });
  if (open === 'maybe-read-write' && openedBy !== undefined) {
    return freezeVerdict({ ...onPrimaryBecause(openedBy), anyLink: false, ...common });
  }
  if (sawReplica) return freezeVerdict({ destination: 'replica', reason: 'read-only', anyLink: false, ...common });
  // Only statements that run on any link: the primary by default, the router may do better.
  return freezeVerdict({ ...onPrimaryBecause(firstAnyLink ?? { reason: 'session-state' }), anyLink: true, ...common });
}

/** The verdict's destination, reason and detail, from the statement that decides them. */
function onPrimaryBecause(judged: Pick<JudgedStatement, 'reason' | 'detail'>): Pick<StatementVerdict, 'destination' | 'reason' | 'detail'> {
  return judged.detail === undefined ? { destination: 'primary', reason: judged.reason } : { destination: 'primary', reason: judged.reason, detail: judged.detail };
}

/** Where the transaction stands after an effect, as far as the text shows. */
function followTransaction(open: 'none' | 'read-only' | 'maybe-read-write', effect: StatementEffect): typeof open {
  switch (effect.kind) {
    case 'begin':
      return effect.access === 'read-only' ? 'read-only' : 'maybe-read-write';
    case 'transaction-characteristics':
      if (effect.scope !== 'transaction' || open === 'none') return open;
      if (effect.access === 'read-only') return 'read-only';
      return effect.access === undefined ? open : 'maybe-read-write';
    case 'commit':
    case 'rollback':
      return effect.chain ? open : 'none';
    case 'prepare-transaction':
      return 'none';
    default:
      return open;
  }
}

function judge(analysis: StatementAnalysis, catalog: FunctionCatalog, prepared: PreparedStatementLookup): JudgedStatement {
  if (analysis.prepares !== undefined) {
    const verdict = batchVerdict([analysis.prepares.query], catalog, prepared);
    const { name, statement } = analysis.prepares;
    return { ...analysis, effects: [{ kind: 'prepare', name, statement, verdict }, ...analysis.effects] };
  }
  const offending = analysis.placement === 'replica' || analysis.executes !== undefined ? firstUnsafe(analysis.functions, catalog) : undefined;
  if (analysis.executes !== undefined) return judgeExecute(analysis, analysis.executes, prepared, offending);
  if (offending !== undefined) return { ...analysis, placement: 'primary', ...offending };
  return analysis;
}

/** EXECUTE goes where its prepared statement goes, with that statement's effects. */
function judgeExecute(
  analysis: StatementAnalysis,
  name: string,
  prepared: PreparedStatementLookup,
  offending: Pick<JudgedStatement, 'reason' | 'detail'> | undefined,
): JudgedStatement {
  const verdict = prepared(name);
  if (verdict === undefined) return analysis; // Unknown to us: 'prepared-statement', primary.
  const effects = [...analysis.effects, ...verdict.effects];
  // Parameters that need the primary (stateful or volatile functions) decide first.
  if (analysis.reason !== 'prepared-statement') return { ...analysis, effects };
  if (offending !== undefined) return { ...analysis, placement: 'primary', ...offending, effects };
  const placement = verdict.destination === 'replica' ? 'replica' : verdict.anyLink ? 'any-link' : 'primary';
  return verdict.detail === undefined ? { placement, reason: verdict.reason, effects } : { placement, reason: verdict.reason, detail: verdict.detail, effects };
}

function firstUnsafe(functions: readonly FunctionName[], catalog: FunctionCatalog): Pick<JudgedStatement, 'reason' | 'detail'> | undefined {
  for (const fn of functions) {
    const judgement = judgeFunction(catalog, fn);
    if (judgement === 'safe') continue;
    const detail = fn.schema === undefined ? fn.name : `${fn.schema}.${fn.name}`;
    return { reason: judgement === 'volatile' ? 'volatile-function' : 'unknown-function', detail };
  }
  return undefined;
}

/** Verdicts are shared through the cache: nobody may change one. */
export function freezeVerdict(verdict: StatementVerdict): StatementVerdict {
  for (const effect of verdict.effects) Object.freeze(effect);
  Object.freeze(verdict.effects);
  return Object.freeze(verdict);
}
