import type { ParseResult } from 'libpg-query';

/**
 * PostgreSQL's own grammar (libpg_query compiled to WASM), loaded once per process.
 *
 * libpg-query starts compiling its WASM module as soon as it is imported, so it is imported
 * only here, on the first loadSqlParser() call: a process that never routes statements never
 * pays for it. Until the load has finished, parseSql() answers `not-loaded` and the classifier
 * sends everything to the primary.
 */
type ParseFunction = (text: string) => ParseResult;

let parseFunction: ParseFunction | undefined;
let loading: Promise<void> | undefined;

export type ParseOutcome =
  | { readonly kind: 'parsed'; readonly result: ParseResult }
  | { readonly kind: 'syntax-error' }
  /** The parser itself failed (a tree too deep for JSON.parse's stack, say): nothing is known about the text. */
  | { readonly kind: 'parser-failed' }
  | { readonly kind: 'not-loaded' };

/** Loads the WASM parser; the router awaits this at start-up. Safe to call more than once. */
export function loadSqlParser(): Promise<void> {
  loading ??= (async () => {
    const pgQuery = await import('libpg-query');
    await pgQuery.loadModule();
    parseFunction = pgQuery.parseSync;
  })();
  // A failed load may be retried by a later call.
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

export function sqlParserLoaded(): boolean {
  return parseFunction !== undefined;
}

/**
 * Parses `text`. Never throws. The caller handles the empty text, which libpg-query refuses
 * to parse.
 */
export function parseSql(text: string): ParseOutcome {
  if (parseFunction === undefined) return { kind: 'not-loaded' };
  try {
    return { kind: 'parsed', result: parseFunction(text) };
  } catch (error) {
    // libpg-query reports PostgreSQL's own parse errors as SqlError. The message would quote
    // the client's text; the verdict only needs the fact.
    return error instanceof Error && error.name === 'SqlError' ? { kind: 'syntax-error' } : { kind: 'parser-failed' };
  }
}
