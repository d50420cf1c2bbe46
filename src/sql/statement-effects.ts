/**
 * What a statement does to the session beyond its result: the state a `split` router must
 * follow to keep a transaction on one link, replay on its other links, or stop splitting.
 *
 * Effects are listed in the order the statements run, so a router folds them over its own
 * session state (`BEGIN; SET LOCAL ...; COMMIT` ends the local setting with the COMMIT).
 * Names (parameters, channels, cursors, prepared statements, savepoints) are identifiers the
 * client chose; `statement` fields hold the client's own text for replay and may contain
 * literal values: never log them.
 */
import type { StatementVerdict } from './statement-verdict.js';

export type AccessMode = 'read-only' | 'read-write';
export type IsolationLevel = 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable';
/** `default`: back to whatever the server, database or role says, which the router cannot see. */
export type Characteristic<T> = T | 'default';

/** Transaction control: what the statement does to the session's transaction block. */
export type TransactionEffect =
  | {
      readonly kind: 'begin';
      /** Absent when BEGIN says nothing: the session's default applies. */
      readonly access?: AccessMode;
      readonly isolation?: IsolationLevel;
      readonly deferrable?: boolean;
    }
  | { readonly kind: 'commit'; readonly chain: boolean }
  | { readonly kind: 'rollback'; readonly chain: boolean }
  | { readonly kind: 'savepoint'; readonly name: string }
  | { readonly kind: 'release'; readonly name: string }
  | { readonly kind: 'rollback-to'; readonly name: string }
  /** PREPARE TRANSACTION: the block ends on this session and lives on as a prepared transaction. */
  | { readonly kind: 'prepare-transaction' }
  | { readonly kind: 'commit-prepared' }
  | { readonly kind: 'rollback-prepared' }
  /**
   * SET TRANSACTION / SET transaction_read_only (scope `transaction`), SET SESSION
   * CHARACTERISTICS AS TRANSACTION / SET default_transaction_read_only /
   * default_transaction_isolation / RESET of those (scope `session`: the default for later
   * transactions). A field is absent when the statement does not touch it.
   */
  | {
      readonly kind: 'transaction-characteristics';
      readonly scope: 'transaction' | 'session';
      readonly access?: Characteristic<AccessMode>;
      readonly isolation?: Characteristic<IsolationLevel>;
      readonly deferrable?: Characteristic<boolean>;
    };

/** Session state the router reproduces on every link it uses for the session. */
export type SessionEffect =
  /** SET / SET LOCAL / SET ... TO DEFAULT; `transaction` scope lasts until the block ends. */
  | { readonly kind: 'set'; readonly name: string; readonly scope: 'session' | 'transaction'; readonly statement: string }
  | { readonly kind: 'reset'; readonly name: string; readonly statement: string }
  | { readonly kind: 'reset-all'; readonly statement: string }
  /** DISCARD ALL also deallocates, closes cursors, unlistens, releases advisory locks, drops temp objects. */
  | { readonly kind: 'discard'; readonly target: 'all' | 'plans' | 'sequences' | 'temp' }
  /** SQL-level PREPARE; `verdict` is where an EXECUTE of it must go. */
  | { readonly kind: 'prepare'; readonly name: string; readonly statement: string; readonly verdict: StatementVerdict }
  /** `name` absent: DEALLOCATE ALL. */
  | { readonly kind: 'deallocate'; readonly name?: string }
  | { readonly kind: 'execute'; readonly name: string }
  | { readonly kind: 'listen'; readonly channel: string }
  /** `channel` absent: UNLISTEN *. */
  | { readonly kind: 'unlisten'; readonly channel?: string }
  | { readonly kind: 'declare-cursor'; readonly name: string; readonly hold: boolean }
  /** `name` absent: CLOSE ALL. */
  | { readonly kind: 'close-cursor'; readonly name?: string };

/**
 * Why the session (or, with scope `transaction`, the rest of its transaction) must stay on the
 * primary link: state that another link cannot reproduce.
 */
export type PinReason =
  /** CREATE TEMP TABLE/VIEW/SEQUENCE, CREATE ... pg_temp.x, SELECT INTO TEMP, CREATE TEMP TABLE AS. */
  | 'temp-object'
  /** LISTEN: notifications arrive on the link that listens, and only a primary accepts LISTEN. */
  | 'listen'
  /** pg_advisory_lock and friends: held by the link's backend until unlocked or the session ends. */
  | 'advisory-lock'
  /** pg_advisory_xact_lock and friends: held until the transaction ends (scope `transaction`). */
  | 'advisory-xact-lock'
  /** DECLARE ... WITH HOLD: the cursor outlives its transaction on that backend. */
  | 'hold-cursor'
  /** SET ROLE: identity changes are not replayed on other links. */
  | 'role'
  | 'session-authorization'
  /** LOAD: a shared library loaded into that backend. */
  | 'load'
  /** set_config(name, value, false) with a value the router cannot replay as a SET. */
  | 'set-config'
  /** setseed(): random() on another link would not follow the seed. */
  | 'setseed'
  /** standard_conforming_strings = off: backslashes in '...' then escape, and our parser reads them as on. */
  | 'non-standard-strings'
  /** A client-only encoding (SJIS, BIG5, GBK, ...) whose multibyte characters may hide a quote or a backslash. */
  | 'client-encoding';

export interface PinEffect {
  readonly kind: 'pin';
  readonly pin: PinReason;
  readonly scope: 'session' | 'transaction';
}

export type StatementEffect = TransactionEffect | SessionEffect | PinEffect;
