/**
 * One parsed statement to its StatementAnalysis: which judge reads which statement kind.
 * EXPLAIN, PREPARE and DECLARE wrap another statement and are judged by what they wrap.
 */
import type { DeclareCursorStmt, ExecuteStmt, ExplainStmt, Node, PrepareStmt } from './parse-tree.js';
import { defElemFlag, defElems } from './parse-tree.js';
import { copyAnalysis, readAnalysis, showAnalysis } from './read-statements.js';
import { transactionAnalysis } from './transaction-statements.js';
import { settingAnalysis } from './setting-statements.js';
import { closeAnalysis, deallocateAnalysis, discardAnalysis, fetchAnalysis, listenAnalysis, loadAnalysis, unlistenAnalysis } from './session-statements.js';
import { writeAnalysis } from './write-statements.js';
import { onAnyLink, onPrimary, type StatementAnalysis } from './statement-analysis.js';
import type { StatementEffect } from './statement-effects.js';

/** PostgreSQL's CURSOR_OPT_HOLD (parsenodes.h); libpg_query reports the options as that bit mask. */
const CURSOR_OPT_HOLD = 0x20;

/**
 * `statement` gives this statement's own text (for effects that replay it); `runs` is false
 * when the statement is only planned (inside EXPLAIN without ANALYZE, or PREPARE).
 */
export function analyseStatement(node: Node, statement: () => string, runs = true): StatementAnalysis {
  if ('SelectStmt' in node || 'InsertStmt' in node || 'UpdateStmt' in node || 'DeleteStmt' in node || 'MergeStmt' in node) {
    return readAnalysis(node, runs);
  }
  if ('ExplainStmt' in node) return explainAnalysis(node.ExplainStmt, statement);
  if ('CopyStmt' in node) return copyAnalysis(node.CopyStmt);
  if ('VariableShowStmt' in node) return showAnalysis(node.VariableShowStmt);
  if ('TransactionStmt' in node) return transactionAnalysis(node.TransactionStmt);
  if ('VariableSetStmt' in node) return settingAnalysis(node.VariableSetStmt, statement);
  if ('PrepareStmt' in node) return prepareAnalysis(node.PrepareStmt, statement);
  if ('ExecuteStmt' in node) return executeAnalysis(node.ExecuteStmt);
  if ('DeclareCursorStmt' in node) return declareAnalysis(node.DeclareCursorStmt, statement);
  if ('DeallocateStmt' in node) return deallocateAnalysis(node.DeallocateStmt);
  if ('DiscardStmt' in node) return discardAnalysis(node.DiscardStmt);
  if ('ListenStmt' in node) return listenAnalysis(node.ListenStmt);
  if ('UnlistenStmt' in node) return unlistenAnalysis(node.UnlistenStmt);
  if ('LoadStmt' in node) return loadAnalysis();
  if ('FetchStmt' in node) return fetchAnalysis(node.FetchStmt);
  if ('ClosePortalStmt' in node) return closeAnalysis(node.ClosePortalStmt);
  return writeAnalysis(node);
}

/**
 * EXPLAIN plans without running: it goes where what it explains could go, with none of its
 * effects. EXPLAIN ANALYZE runs the statement, and goes to the primary whatever it is.
 */
function explainAnalysis(explain: ExplainStmt, statement: () => string): StatementAnalysis {
  const analyze = defElems(explain.options).some((o) => o.defname === 'analyze' && defElemFlag(o) !== false);
  if (explain.query === undefined) return onPrimary('unparsed', 'explain');
  const inner = analyseStatement(explain.query, statement, analyze);
  if (analyze) return onPrimary('explain-analyze', undefined, inner.effects);
  return { ...inner, effects: [] };
}

/** PREPARE itself only stores the plan, on whichever link it runs; EXECUTE runs it. */
function prepareAnalysis(prepare: PrepareStmt, statement: () => string): StatementAnalysis {
  const name = prepare.name ?? '';
  const query = prepare.query === undefined ? onPrimary('unparsed', 'prepare') : analyseStatement(prepare.query, statement, true);
  return { ...onAnyLink('session-state', 'prepare'), prepares: { name, statement: statement(), query } };
}

/** Where EXECUTE goes is decided with the session's prepared statements (batch-verdict.ts). */
function executeAnalysis(execute: ExecuteStmt): StatementAnalysis {
  const name = execute.name ?? '';
  // The parameters are expressions evaluated now: EXECUTE p(nextval('s')).
  const params = readAnalysis(execute.params ?? [], true);
  const effects: StatementEffect[] = [{ kind: 'execute', name }, ...params.effects];
  if (params.placement === 'primary') return { ...params, effects, executes: name };
  return { ...onPrimary('prepared-statement', undefined, effects), functions: params.functions, executes: name };
}

/** A WITH HOLD cursor outlives the transaction on its backend; any other lives and dies in it. */
function declareAnalysis(declare: DeclareCursorStmt, statement: () => string): StatementAnalysis {
  const name = declare.portalname ?? '';
  const hold = ((declare.options ?? 0) & CURSOR_OPT_HOLD) !== 0;
  const declared: StatementEffect = { kind: 'declare-cursor', name, hold };
  const query = declare.query === undefined ? onPrimary('unparsed', 'declare') : analyseStatement(declare.query, statement, true);
  if (hold) {
    return onPrimary('session-state', 'declare-cursor', [declared, ...query.effects, { kind: 'pin', pin: 'hold-cursor', scope: 'session' }]);
  }
  return { ...query, effects: [declared, ...query.effects] };
}
