import type { StatementEffect } from '../../sql/statement-effects.js';
import type { StatementVerdict } from '../../sql/statement-verdict.js';

/** What one link has been told of the session: its settings and SQL-level prepared statements. */
export interface LinkSessionState {
  /** Parameter name → the SET statement last applied for it. */
  readonly settings: ReadonlyMap<string, string>;
  /** Prepared statement name → its PREPARE statement. */
  readonly prepared: ReadonlyMap<string, string>;
}

/** A link that has been told nothing yet: the server's defaults from the startup packet. */
export const freshLinkState: LinkSessionState = Object.freeze({ settings: new Map<string, string>(), prepared: new Map<string, string>() });

/** More settings and SQL prepared statements than this, and the session stays on the primary. */
const MAX_REPLAYED = 500;

/**
 * What a second link must be told before it serves this session (pure): the session-level
 * settings and SQL PREPAREs the client made, and its protocol-level prepared statements (the
 * Parse messages, sent again where needed). Kept as the state they leave (the last SET of a
 * parameter wins, RESET forgets it), so a pooled connection that sets application_name at
 * every checkout replays one statement, not thousands. Also the session's pins: state no
 * other link can share, which keep it on the primary.
 */
export class SessionState {
  private readonly settings = new Map<string, string>();
  private readonly sqlPrepared = new Map<string, string>();
  private readonly parses = new Map<string, Buffer>();
  /** default_transaction_read_only is on: a plain BEGIN starts a read-only transaction. */
  readOnlyByDefault = false;
  /**
   * Why the session stays on the primary from now on: a PinReason (temp-object, listen, ...),
   * `search-path-after-prepare`, `replay-limit` (more state than MAX_REPLAYED) or
   * `replay-failed` (the other link refused the replay).
   */
  pinned: string | undefined;
  /**
   * Why the session cannot move to another member beyond its pins (which block moves too):
   * `sequence-state` after an explicit nextval/setval (currval and lastval would differ),
   * `procedural` after DO or CALL (user code whose effects the router cannot see),
   * `unknown-effects` after a statement it could not examine.
   */
  unmovable: string | undefined;

  /** Why this session may not move to another member, or undefined when it may. */
  get moveBlocker(): string | undefined {
    return this.pinned ?? this.unmovable;
  }

  /** The verdicts of statements that ran to completion: what they leave behind that a move could not carry. */
  ran(verdicts: readonly StatementVerdict[]): void {
    for (const v of verdicts) {
      if (v.reason === 'stateful-function' && (v.detail === 'nextval' || v.detail === 'setval')) this.unmovable ??= 'sequence-state';
      else if (v.reason === 'procedural') this.unmovable ??= 'procedural';
      else if (v.reason === 'unparsed') this.unmovable ??= 'unknown-effects';
    }
  }

  /** Every named protocol-level statement, as the client's Parse bytes (a new link prepares them all). */
  allParses(): Array<[string, Buffer]> {
    return [...this.parses];
  }

  /** The effects of a unit that completed without error, on whichever link it ran. */
  applied(effects: readonly StatementEffect[]): void {
    for (const effect of effects) {
      switch (effect.kind) {
        case 'set':
          if (effect.scope !== 'session') break;
          // search_path decides what a prepared statement's names mean: one prepared under another path cannot be replayed.
          if (effect.name === 'search_path' && (this.parses.size > 0 || this.sqlPrepared.size > 0)) this.pinned ??= 'search-path-after-prepare';
          this.settings.delete(effect.name);
          this.settings.set(effect.name, effect.statement);
          break;
        case 'reset':
          this.settings.delete(effect.name);
          break;
        case 'reset-all':
          this.settings.clear();
          break;
        case 'prepare':
          this.sqlPrepared.set(effect.name, effect.statement);
          break;
        case 'discard':
          if (effect.target === 'all') {
            this.settings.clear();
            this.sqlPrepared.clear();
            this.parses.clear();
            this.readOnlyByDefault = false;
          }
          break;
        case 'deallocate':
          // SQL and protocol prepared statements share one namespace.
          if (effect.name === undefined) {
            this.sqlPrepared.clear();
            this.parses.clear();
          } else {
            this.sqlPrepared.delete(effect.name);
            this.parses.delete(effect.name);
          }
          break;
        case 'transaction-characteristics':
          if (effect.scope === 'session' && effect.access !== undefined) this.readOnlyByDefault = effect.access === 'read-only';
          break;
        case 'pin':
          if (effect.scope === 'session') this.pinned ??= effect.pin;
          break;
        default:
          break;
      }
    }
    if (this.settings.size + this.sqlPrepared.size > MAX_REPLAYED) this.pinned ??= 'replay-limit';
  }

  /** A named Parse the client sent (its exact bytes), for the links that have not seen it. */
  parsed(statement: string, raw: Buffer): void {
    if (statement !== '' && !this.parses.has(statement)) this.parses.set(statement, Buffer.from(raw));
  }

  closed(statement: string): void {
    this.parses.delete(statement);
  }

  parseOf(statement: string): Buffer | undefined {
    return this.parses.get(statement);
  }

  /** Protocol-level statements a link still holds that the session has closed (elsewhere, or by DISCARD/DEALLOCATE). */
  staleOn(linkStatements: ReadonlySet<string>): string[] {
    return [...linkStatements].filter((name) => !this.parses.has(name));
  }

  /** The session's state as a link that has caught up holds it. */
  snapshot(): LinkSessionState {
    return { settings: new Map(this.settings), prepared: new Map(this.sqlPrepared) };
  }

  /**
   * The statements that bring a link from `link` to the session's state, in an order that
   * holds: forgotten settings reset, settings applied, then statements deallocated and
   * prepared (a PREPARE reads the settings in force, search_path above all).
   */
  replayFor(link: LinkSessionState): string[] {
    const out: string[] = [];
    for (const name of link.settings.keys()) if (!this.settings.has(name)) out.push(`RESET ${quoteIdentifier(name)}`);
    for (const [name, statement] of this.settings) if (link.settings.get(name) !== statement) out.push(statement);
    for (const [name, statement] of link.prepared) if (this.sqlPrepared.get(name) !== statement) out.push(`DEALLOCATE ${quoteIdentifier(name)}`);
    for (const [name, statement] of this.sqlPrepared) if (link.prepared.get(name) !== statement) out.push(statement);
    return out;
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
