/**
 * Transaction control, and the settings that decide whether a transaction is read-only.
 *
 * A transaction that says READ ONLY can live on a replica as a whole; one that does not
 * might write later, so a batch that leaves it open goes to the primary (see batch-verdict).
 * SERIALIZABLE never runs on a hot standby: PostgreSQL refuses it there, so it goes to the
 * primary even when read-only (`BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE`).
 */
import type { DefElem, TransactionStmt } from './parse-tree.js';
import { booleanSetting, constantText, defElems } from './parse-tree.js';
import type { AccessMode, Characteristic, IsolationLevel, StatementEffect, TransactionEffect } from './statement-effects.js';
import { onAnyLink, onPrimary, onReplica, type StatementAnalysis } from './statement-analysis.js';

const ISOLATION_LEVELS: ReadonlySet<string> = new Set(['read uncommitted', 'read committed', 'repeatable read', 'serializable']);

/** What BEGIN or SET TRANSACTION says. */
export interface TransactionOptions {
  access?: AccessMode;
  isolation?: IsolationLevel;
  deferrable?: boolean;
}

/** What a setting says, `default` included (SET ... TO DEFAULT, RESET). */
export interface TransactionCharacteristics {
  access?: Characteristic<AccessMode>;
  isolation?: Characteristic<IsolationLevel>;
  deferrable?: Characteristic<boolean>;
}

export function isolationLevel(text: string | undefined): IsolationLevel | undefined {
  const level = text?.trim().toLowerCase().replace(/\s+/g, ' ');
  return level !== undefined && ISOLATION_LEVELS.has(level) ? (level as IsolationLevel) : undefined;
}

/** The options of BEGIN / START TRANSACTION / SET TRANSACTION / SET SESSION CHARACTERISTICS. */
export function transactionOptions(options: readonly DefElem[]): TransactionOptions {
  const found: TransactionOptions = {};
  for (const option of options) {
    const value = constantText(option.arg);
    if (option.defname === 'transaction_isolation') {
      const level = isolationLevel(value);
      if (level !== undefined) found.isolation = level;
    } else if (option.defname === 'transaction_read_only') {
      const readOnly = booleanSetting(value);
      if (readOnly !== undefined) found.access = readOnly ? 'read-only' : 'read-write';
    } else if (option.defname === 'transaction_deferrable') {
      const deferrable = booleanSetting(value);
      if (deferrable !== undefined) found.deferrable = deferrable;
    }
  }
  return found;
}

export function transactionAnalysis(stmt: TransactionStmt): StatementAnalysis {
  switch (stmt.kind) {
    case 'TRANS_STMT_BEGIN':
    case 'TRANS_STMT_START':
      return beginAnalysis(transactionOptions(defElems(stmt.options)));
    case 'TRANS_STMT_COMMIT':
      return onAnyLink('transaction-control', 'commit', [{ kind: 'commit', chain: stmt.chain === true }]);
    case 'TRANS_STMT_ROLLBACK':
      return onAnyLink('transaction-control', 'rollback', [{ kind: 'rollback', chain: stmt.chain === true }]);
    case 'TRANS_STMT_SAVEPOINT':
      return onAnyLink('transaction-control', 'savepoint', [{ kind: 'savepoint', name: stmt.savepoint_name ?? '' }]);
    case 'TRANS_STMT_RELEASE':
      return onAnyLink('transaction-control', 'release', [{ kind: 'release', name: stmt.savepoint_name ?? '' }]);
    case 'TRANS_STMT_ROLLBACK_TO':
      return onAnyLink('transaction-control', 'rollback-to', [{ kind: 'rollback-to', name: stmt.savepoint_name ?? '' }]);
    // Two-phase commit is refused on a standby, and the prepared transaction lives on the primary.
    case 'TRANS_STMT_PREPARE':
      return onPrimary('transaction-control', 'prepare-transaction', [{ kind: 'prepare-transaction' }]);
    case 'TRANS_STMT_COMMIT_PREPARED':
      return onPrimary('transaction-control', 'commit-prepared', [{ kind: 'commit-prepared' }]);
    case 'TRANS_STMT_ROLLBACK_PREPARED':
      return onPrimary('transaction-control', 'rollback-prepared', [{ kind: 'rollback-prepared' }]);
    default:
      return onPrimary('transaction-control', 'unknown');
  }
}

function beginAnalysis(found: TransactionOptions): StatementAnalysis {
  const effects: TransactionEffect[] = [{ kind: 'begin', ...found }];
  if (found.isolation === 'serializable') return onPrimary('serializable', 'begin', effects);
  if (found.access === 'read-write') return onPrimary('transaction-control', 'begin', effects);
  if (found.access === 'read-only') return onReplica(undefined, effects);
  // Read-only or not depends on the session's default, and on what follows.
  return onAnyLink('transaction-control', 'begin', effects);
}

/**
 * SET TRANSACTION ... (scope `transaction`) and SET SESSION CHARACTERISTICS AS TRANSACTION
 * ... (scope `session`). READ WRITE for the current transaction is refused on a standby;
 * as a session default it is accepted there, and only later transactions care.
 */
export function characteristicsAnalysis(
  scope: 'transaction' | 'session',
  found: TransactionCharacteristics,
  detail: string,
  leadingEffects: readonly StatementEffect[] = [],
): StatementAnalysis {
  const effects: StatementEffect[] = [...leadingEffects, { kind: 'transaction-characteristics', scope, ...found }];
  if (found.isolation === 'serializable') return onPrimary('serializable', detail, effects);
  if (scope === 'transaction' && found.access === 'read-write') return onPrimary('transaction-control', detail, effects);
  return onAnyLink('transaction-control', detail, effects);
}
