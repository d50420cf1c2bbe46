/**
 * A statement's shape: its text with every literal value replaced by a marker of its kind and
 * comments dropped, so that `SELECT ... WHERE id = 1` and `... id = 2` share a classifier
 * cache entry. Clients that send values inline (psql, psycopg2, pgbench -M simple, ORMs
 * without server-side binds) would otherwise miss the cache on every statement.
 *
 * The scan follows PostgreSQL's lexer where it matters for telling literals from the rest:
 * '...' with '' inside (standard_conforming_strings on: sessions with it off are pinned to
 * the primary and never split), E'...' with backslash escapes, $tag$...$tag$ dollar quotes,
 * "..." identifiers (kept: names decide routing), nested /* *\/ comments, -- comments,
 * numbers not glued to a name, $1 parameters (kept). A text it cannot scan to the end (an
 * unterminated quote or comment) has no shape: it is parsed as it is.
 *
 * Literal values never change how PostgreSQL's grammar reads a statement, so texts of one
 * shape parse to the same statements; the classifier still caches by shape only verdicts
 * with no session effects (a SET's effect carries its own text, to replay), and never texts
 * that call the built-ins whose verdict reads a literal argument (LITERAL_SENSITIVE).
 */

/**
 * Built-ins whose verdict depends on a literal argument (builtin-functions.ts):
 * current_setting('transaction_read_only') is a writability probe, set_config's is_local
 * decides a pin. A text that names one is cached by its exact text only.
 */
export const LITERAL_SENSITIVE = /current_setting|set_config/i;
const STRING = '?s';
const NUMBER = '?n';

function isNameChar(code: number): boolean {
  // A-Z a-z 0-9 _ $ and anything beyond ASCII (PostgreSQL's identifier characters).
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f || code === 0x24 || code >= 0x80;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** Where a '...' literal that starts at `open` (the quote) ends, past its closing quote; -1 if it does not. */
function endOfQuoted(text: string, open: number, backslashEscapes: boolean): number {
  let i = open + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (backslashEscapes && c === 0x5c) {
      i += 2;
      continue;
    }
    if (c === 0x27) {
      if (text.charCodeAt(i + 1) === 0x27) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return -1;
}

/** A dollar-quote opening tag at `i` (`$$` or `$name$`), or undefined. */
function dollarTag(text: string, i: number): string | undefined {
  let j = i + 1;
  if (isDigit(text.charCodeAt(j))) return undefined;
  while (j < text.length && isNameChar(text.charCodeAt(j)) && text.charCodeAt(j) !== 0x24) j++;
  return text.charCodeAt(j) === 0x24 ? text.slice(i, j + 1) : undefined;
}

/** The text's shape, or undefined when it cannot be scanned to its end. */
export function statementShape(text: string): string | undefined {
  let out = '';
  let i = 0;
  let copied = 0;
  const replace = (from: number, to: number, marker: string): void => {
    out += text.slice(copied, from) + marker;
    copied = to;
  };
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (c === 0x2d && next === 0x2d) {
      // -- comment, to the end of the line
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      replace(i, stop, ' ');
      i = stop;
    } else if (c === 0x2f && next === 0x2a) {
      // /* comment */, nested as PostgreSQL nests them
      let depth = 1;
      let j = i + 2;
      while (j < text.length && depth > 0) {
        if (text.charCodeAt(j) === 0x2f && text.charCodeAt(j + 1) === 0x2a) {
          depth++;
          j += 2;
        } else if (text.charCodeAt(j) === 0x2a && text.charCodeAt(j + 1) === 0x2f) {
          depth--;
          j += 2;
        } else j++;
      }
      if (depth > 0) return undefined;
      replace(i, j, ' ');
      i = j;
    } else if (c === 0x27) {
      // 'string', or E'string' / e'string' when the letter before it stands alone
      const before = i > 0 ? text.charCodeAt(i - 1) : 0;
      const escaped = (before === 0x45 || before === 0x65) && (i < 2 || !isNameChar(text.charCodeAt(i - 2)));
      const end = endOfQuoted(text, i, escaped);
      if (end < 0) return undefined;
      replace(i, end, STRING);
      i = end;
    } else if (c === 0x22) {
      // "identifier": kept as it is
      let j = i + 1;
      for (;;) {
        const k = text.indexOf('"', j);
        if (k < 0) return undefined;
        if (text.charCodeAt(k + 1) === 0x22) {
          j = k + 2;
          continue;
        }
        i = k + 1;
        break;
      }
    } else if (c === 0x24 && (i === 0 || !isNameChar(text.charCodeAt(i - 1)))) {
      const tag = dollarTag(text, i);
      if (tag === undefined) {
        // $1: a parameter, kept
        i++;
        continue;
      }
      const close = text.indexOf(tag, i + tag.length);
      if (close < 0) return undefined;
      replace(i, close + tag.length, STRING);
      i = close + tag.length;
    } else if ((isDigit(c) || (c === 0x2e && isDigit(next))) && (i === 0 || !isNameChar(text.charCodeAt(i - 1)))) {
      // a number: digits, a point, an exponent with its sign, and what PostgreSQL 16 adds (0x1F, 1_000)
      let j = i + 1;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (isNameChar(d) || d === 0x2e) j++;
        else if ((d === 0x2b || d === 0x2d) && (text.charCodeAt(j - 1) === 0x65 || text.charCodeAt(j - 1) === 0x45)) j++;
        else break;
      }
      replace(i, j, NUMBER);
      i = j;
    } else if (isNameChar(c)) {
      let j = i + 1;
      while (j < text.length && isNameChar(text.charCodeAt(j))) j++;
      i = j;
    } else i++;
  }
  return out + text.slice(copied);
}
