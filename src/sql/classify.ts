/**
 * A statement text (one statement or a simple-query batch) to its verdict.
 *
 * Two steps, so that a cache keeps the costly one: analyseText() parses and reads the tree
 * (catalog-free); verdictOf() judges that against the function catalog and the session's
 * prepared statements. classifyStatement() does both.
 */
import { parseSql } from './sql-parser.js';
import { primaryByFirstKeyword } from './first-keyword.js';
import { analyseStatement } from './analyse-statement.js';
import { StatementText } from './statement-text.js';
import { batchVerdict, freezeVerdict, type PreparedStatementLookup } from './batch-verdict.js';
import type { FunctionCatalog } from './function-catalog.js';
import type { StatementAnalysis } from './statement-analysis.js';
import type { StatementVerdict } from './statement-verdict.js';

/**
 * Texts longer than this (in UTF-16 code units, about bytes for SQL) go to the primary
 * unparsed. Parsing is synchronous and costs up to ~1 ms per KiB for long generated WHERE
 * clauses (measured here: 488 KiB of `a = 1 AND ...` in ~0.5 s), time during which the
 * router's event loop serves no other session; 256 KiB bounds that to a fraction of a second
 * and still covers an IN list of tens of thousands of ids.
 */
export const DEFAULT_MAX_PARSED_LENGTH = 256 * 1024;

export type TextAnalysis =
  /**
   * Decided without the catalog: unparsed, or sent to the primary by its first keyword.
   * `lasting` is false when asking again later may answer otherwise (parser not loaded yet).
   */
  { readonly kind: 'decided'; readonly verdict: StatementVerdict; readonly lasting: boolean } | { readonly kind: 'statements'; readonly statements: readonly StatementAnalysis[] };

function unparsed(detail: string, effectsKnown: boolean, lasting = true): TextAnalysis {
  return {
    kind: 'decided',
    verdict: freezeVerdict({ destination: 'primary', reason: 'unparsed', detail, anyLink: false, effects: [], effectsKnown, statementCount: 0 }),
    lasting,
  };
}

const EMPTY: TextAnalysis = { kind: 'statements', statements: [] };

export interface AnalysisLimits {
  /** Longer texts go to the primary unparsed; DEFAULT_MAX_PARSED_LENGTH unless given. */
  readonly maxParsedLength?: number;
  /** False: no first-keyword shortcut (the tests compare it with the parser; the classifier asked it already). */
  readonly firstKeyword?: boolean;
}

export function analyseText(text: string, limits: AnalysisLimits = {}): TextAnalysis {
  const { maxParsedLength = DEFAULT_MAX_PARSED_LENGTH, firstKeyword = true } = limits;
  // The wire protocol ends a query at its first NUL, and so would the parser's C string: a
  // NUL inside the text means someone framed it wrongly; do not guess what follows it.
  if (text.includes('\0')) return unparsed('nul-byte', false);
  const shortcut = firstKeyword ? primaryByFirstKeyword(text) : undefined;
  if (shortcut !== undefined) return { kind: 'decided', verdict: shortcut, lasting: true };
  if (text.length > maxParsedLength) return unparsed('too-long', false);
  if (text.trim() === '') return EMPTY; // libpg-query refuses ''.

  const outcome = parseSql(text);
  if (outcome.kind === 'not-loaded') return unparsed('parser-not-loaded', false, false);
  // A text the parser fails on (too deeply nested for its stack, say) is as likely to fail
  // again: the primary it goes to is a safe answer to keep.
  if (outcome.kind === 'parser-failed') return unparsed('parser-failed', false);
  // PostgreSQL parses a whole simple query before running any of it, so a text that does not
  // parse runs nothing: no effects are missed.
  if (outcome.kind === 'syntax-error') return unparsed('syntax-error', true);

  const raw = outcome.result.stmts ?? [];
  const source = new StatementText(text);
  const statements: StatementAnalysis[] = [];
  for (const stmt of raw) {
    if (stmt.stmt === undefined) continue;
    // Only SET, RESET and PREPARE need their own text; slice it only then.
    const own = raw.length === 1 ? () => text.trim() : () => source.slice(stmt.stmt_location, stmt.stmt_len);
    statements.push(analyseStatement(stmt.stmt, own));
  }
  return { kind: 'statements', statements };
}

export function verdictOf(analysis: TextAnalysis, catalog: FunctionCatalog, prepared?: PreparedStatementLookup): StatementVerdict {
  return analysis.kind === 'decided' ? analysis.verdict : batchVerdict(analysis.statements, catalog, prepared);
}

/** Fails closed: before loadSqlParser() has finished, everything goes to the primary. */
export function classifyStatement(text: string, catalog: FunctionCatalog, prepared?: PreparedStatementLookup): StatementVerdict {
  return verdictOf(analyseText(text), catalog, prepared);
}
