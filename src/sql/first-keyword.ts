/**
 * A cheap look at a statement's first keyword, to send a write to the primary without
 * parsing it (a 500 KB multi-row INSERT costs milliseconds to parse and never repeats).
 *
 * It only ever says "primary". It says nothing (and the text is parsed) unless the verdict
 * would be the parser's too, effects included:
 * - the keyword begins only statements that go to the primary and change no session state
 *   (not CREATE, which may create a temporary table; not SET, COPY, EXPLAIN, WITH, ...);
 * - the text is one statement: no `;` other than trailing ones (a `;` inside a string or a
 *   comment also sends it to the parser, which is only slower);
 * - no function that pins the session can be named in it (pg_advisory_lock in an INSERT).
 */
import type { PrimaryReason, StatementVerdict } from './statement-verdict.js';
import { freezeVerdict } from './batch-verdict.js';

const PRIMARY_KEYWORDS: ReadonlyMap<string, readonly [PrimaryReason, string]> = new Map([
  ['INSERT', ['write', 'insert']],
  ['UPDATE', ['write', 'update']],
  ['DELETE', ['write', 'delete']],
  ['MERGE', ['write', 'merge']],
  ['TRUNCATE', ['write', 'truncate']],
  ['ALTER', ['write', 'alter']],
  ['DROP', ['write', 'drop']],
  ['GRANT', ['write', 'grant']],
  ['REVOKE', ['write', 'grant']],
  ['COMMENT', ['write', 'comment']],
  ['SECURITY', ['write', 'sec-label']],
  ['REFRESH', ['write', 'refresh-mat-view']],
  ['REASSIGN', ['write', 'reassign-owned']],
  ['IMPORT', ['write', 'import-foreign-schema']],
  ['NOTIFY', ['write', 'notify']],
  ['LOCK', ['locking', 'lock-table']],
  ['VACUUM', ['utility', 'vacuum']],
  ['ANALYZE', ['utility', 'analyze']],
  ['ANALYSE', ['utility', 'analyze']],
  ['CLUSTER', ['utility', 'cluster']],
  ['REINDEX', ['utility', 'reindex']],
  ['CHECKPOINT', ['utility', 'checkpoint']],
  ['CALL', ['procedural', 'call']],
  ['DO', ['procedural', 'do']],
]);

/** One frozen verdict per keyword, shared: a write sent this way allocates nothing. */
const KEYWORD_VERDICTS: ReadonlyMap<string, StatementVerdict> = new Map(
  [...PRIMARY_KEYWORDS].map(([keyword, [reason, detail]]) => [
    keyword,
    freezeVerdict({ destination: 'primary', reason, detail, anyLink: false, effects: [], effectsKnown: true, statementCount: 1 }),
  ]),
);

/** Function names that may pin a session (builtin-functions.ts): their presence means "parse". */
const PINNING_FUNCTION = /advisory|set_config|setseed/i;

/** PostgreSQL's whitespace (scan.l: space, tab, newline, carriage return, form feed, vertical tab). */
function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

function isKeywordChar(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f;
}

/** Index of the first character that is neither whitespace nor inside a comment; -1 if none. */
export function skipBlanks(text: string, from = 0): number {
  let i = from;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (isSpace(code)) {
      i++;
    } else if (code === 0x2d && text.charCodeAt(i + 1) === 0x2d) {
      // -- runs to the end of the line.
      while (i < text.length && text.charCodeAt(i) !== 0x0a && text.charCodeAt(i) !== 0x0d) i++;
    } else if (code === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
      // /* ... */ nests in PostgreSQL; an unterminated one hides the rest of the text.
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        if (text.charCodeAt(i) === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
          depth++;
          i += 2;
        } else if (text.charCodeAt(i) === 0x2a && text.charCodeAt(i + 1) === 0x2f) {
          depth--;
          i += 2;
        } else {
          i++;
        }
      }
      if (depth > 0) return -1;
    } else {
      return i;
    }
  }
  return -1;
}

/** The first keyword, upper case, or undefined when the text does not start with a word. */
export function firstKeyword(text: string): string | undefined {
  const start = skipBlanks(text);
  if (start < 0) return undefined;
  let end = start;
  while (end < text.length && isKeywordChar(text.charCodeAt(end))) end++;
  // A word glued to a digit, `$` or a non-ASCII letter is an identifier, not a keyword.
  if (end === start || (end < text.length && /[0-9$\u0080-\uffff]/.test(text.charAt(end)))) return undefined;
  return text.slice(start, end).toUpperCase();
}

/** True when every `;` is trailing: nothing but whitespace and `;` after the first one. */
function isOneStatement(text: string): boolean {
  const semicolon = text.indexOf(';');
  if (semicolon < 0) return true;
  for (let i = semicolon + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code !== 0x3b && !isSpace(code)) return false;
  }
  return true;
}

/** The primary verdict for `text` without parsing it, or undefined: parse it. */
export function primaryByFirstKeyword(text: string): StatementVerdict | undefined {
  const keyword = firstKeyword(text);
  if (keyword === undefined) return undefined;
  const verdict = KEYWORD_VERDICTS.get(keyword);
  if (verdict === undefined || !isOneStatement(text) || PINNING_FUNCTION.test(text)) return undefined;
  return verdict;
}
