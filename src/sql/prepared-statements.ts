/**
 * A session's prepared statements by name, with the verdict of each, so that Bind/Execute of
 * a protocol-level statement and SQL EXECUTE go where the statement's text would.
 *
 * PostgreSQL keeps protocol-level (Parse) and SQL-level (PREPARE) statements in one
 * namespace, and so does this map. It does no I/O; the session owns one and feeds it the
 * messages and verdicts it has seen:
 * - Parse: the unnamed statement ('') is replaced by every Parse; a named one is created
 *   once (PostgreSQL refuses a second Parse of the same name and keeps the first).
 * - Close of a statement, DEALLOCATE name: removed. DEALLOCATE ALL, DISCARD ALL: all removed.
 * - SQL PREPARE, DEALLOCATE, DISCARD ALL arrive as effects of an executed verdict.
 */
import type { PreparedStatementLookup } from './batch-verdict.js';
import type { StatementEffect } from './statement-effects.js';
import type { StatementVerdict } from './statement-verdict.js';

export const UNNAMED_STATEMENT = '';

export class PreparedStatementVerdicts {
  private readonly byName = new Map<string, StatementVerdict>();

  /** For classify(): EXECUTE of a name this session prepared. */
  readonly lookup: PreparedStatementLookup = (name) => this.byName.get(name);

  /** A Parse message for `name` whose query text got `verdict`. */
  parsed(name: string, verdict: StatementVerdict): void {
    if (name === UNNAMED_STATEMENT || !this.byName.has(name)) this.byName.set(name, verdict);
  }

  /** A Close message for a statement (not a portal). */
  closed(name: string): void {
    this.byName.delete(name);
  }

  /** The effects of a statement the session has run (simple query, or Execute of a portal). */
  apply(effects: readonly StatementEffect[]): void {
    for (const effect of effects) {
      if (effect.kind === 'prepare') {
        if (!this.byName.has(effect.name)) this.byName.set(effect.name, effect.verdict);
      } else if (effect.kind === 'deallocate') {
        if (effect.name === undefined) this.byName.clear();
        else this.byName.delete(effect.name);
      } else if (effect.kind === 'discard' && effect.target === 'all') {
        this.byName.clear();
      }
    }
  }

  verdictOf(name: string): StatementVerdict | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }
}
