import type { PinEffect, StatementEffect } from './statement-effects.js';

export type Destination = 'primary' | 'replica';

/** Why a statement (or a batch) goes to the primary; one word each, for metrics and logs. */
export type PrimaryReason =
  /** DML, DDL, NOTIFY, a data-modifying CTE, EXPLAIN of a write: anything that changes data or schema. */
  | 'write'
  /** Not parsed: a syntax error, a text too long to parse, the parser not loaded yet, a NUL byte. */
  | 'unparsed'
  /** No statement at all (empty, whitespace, comments, `;`): harmless anywhere, see `anyLink`. */
  | 'empty'
  /** A built-in that writes or holds state: nextval, pg_advisory_lock, set_config, lo_*, dblink*, ... */
  | 'stateful-function'
  /** A user function whose pg_proc.provolatile is `v`, not in the allow-list. */
  | 'volatile-function'
  /** A function the catalog does not know (created since its last refresh, or no catalog yet). */
  | 'unknown-function'
  /** FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE anywhere, or LOCK TABLE. */
  | 'locking'
  /** SELECT ... INTO: creates a table. */
  | 'into'
  | 'copy-from'
  /** COPY ... TO a server file or PROGRAM: runs on the server it reaches. */
  | 'copy-file'
  | 'explain-analyze'
  /** BEGIN without READ ONLY, READ WRITE, 2PC, SET TRANSACTION SNAPSHOT, a transaction left open. */
  | 'transaction-control'
  /** SERIALIZABLE: PostgreSQL refuses it on a hot standby. */
  | 'serializable'
  /** VACUUM, ANALYZE, CLUSTER, REINDEX, CHECKPOINT, ... */
  | 'utility'
  /** DO, CALL: user code that may do anything. */
  | 'procedural'
  /** SET/RESET/DISCARD/PREPARE/DEALLOCATE/LISTEN/UNLISTEN/LOAD/FETCH/CLOSE: see `effects`. */
  | 'session-state'
  /** EXECUTE of a prepared statement the session has not told us about. */
  | 'prepared-statement'
  /**
   * A question whose answer differs between primary and replica and that clients ask to learn
   * whether they may write: pg_is_in_recovery(), SHOW transaction_read_only, in_hot_standby.
   * The split endpoint answers as the primary, where its writes go.
   */
  | 'writability-probe';

export interface StatementVerdict {
  readonly destination: Destination;
  readonly reason: PrimaryReason | 'read-only';
  /**
   * The offending function, clause, statement kind or parameter name (never a literal value):
   * `nextval`, `for-update`, `insert`, `search_path`. For a batch, that of its first statement
   * that sends it to the primary.
   */
  readonly detail?: string;
  /**
   * The statement runs on whichever link the session is using (SET, RESET, PREPARE, COMMIT,
   * SAVEPOINT, FETCH, an empty query): `destination` stays `primary`, but a router may keep it
   * on the current link and replay its session effects on the others. True only when every
   * statement of the text is of that kind.
   */
  readonly anyLink: boolean;
  /** In the order the statements run. */
  readonly effects: readonly StatementEffect[];
  /**
   * False when the text was not examined (too long, parser not loaded): it may have effects the
   * verdict does not list. User code (DO, CALL, functions) is never examined: what it does to
   * the session is invisible here either way.
   */
  readonly effectsKnown: boolean;
  /** Statements in the text; 0 for an empty query or one that was not parsed. */
  readonly statementCount: number;
}

/** The pins among a verdict's effects, in order. */
export function pinsOf(verdict: StatementVerdict): PinEffect[] {
  return verdict.effects.filter((e): e is PinEffect => e.kind === 'pin');
}
