/**
 * SET, SET LOCAL, RESET, RESET ALL, SET TRANSACTION, SET SESSION CHARACTERISTICS.
 *
 * Most settings are session state the router replays on each link it uses, so SET runs on
 * any link. The exceptions: identity changes (SET ROLE, SET SESSION AUTHORIZATION) pin the
 * session; settings that change how the text itself must be read (standard_conforming_strings
 * off, a client-only encoding) pin it too, because this classifier reads the text as UTF-8
 * with standard strings; and the transaction characteristics are reported as such.
 */
import type { VariableSetStmt } from './parse-tree.js';
import { booleanSetting, constantText, defElems } from './parse-tree.js';
import type { PinEffect, PinReason, SessionEffect, StatementEffect } from './statement-effects.js';
import { onAnyLink, onPrimary, type StatementAnalysis } from './statement-analysis.js';
import { characteristicsAnalysis, isolationLevel, transactionOptions, type TransactionCharacteristics } from './transaction-statements.js';

/** Settings that are transaction characteristics: the scope they act on and the field they set. */
const CHARACTERISTIC_SETTINGS: ReadonlyMap<string, { scope: 'transaction' | 'session'; field: keyof TransactionCharacteristics }> = new Map([
  ['transaction_read_only', { scope: 'transaction', field: 'access' }],
  ['transaction_isolation', { scope: 'transaction', field: 'isolation' }],
  ['transaction_deferrable', { scope: 'transaction', field: 'deferrable' }],
  ['default_transaction_read_only', { scope: 'session', field: 'access' }],
  ['default_transaction_isolation', { scope: 'session', field: 'isolation' }],
  ['default_transaction_deferrable', { scope: 'session', field: 'deferrable' }],
] as const);

const SESSION_DEFAULTS: Readonly<Record<keyof TransactionCharacteristics, string>> = {
  access: 'default_transaction_read_only',
  isolation: 'default_transaction_isolation',
  deferrable: 'default_transaction_deferrable',
};

/**
 * PostgreSQL's client-only encodings: a multibyte character's second byte may be 0x5c
 * (backslash) or fall in ASCII, so reading the bytes as UTF-8 may misplace quotes. Names are
 * compared as PostgreSQL does: lower case, letters and digits only.
 */
const CLIENT_ONLY_ENCODINGS: ReadonlySet<string> = new Set([
  'sjis',
  'shiftjis',
  'mskanji',
  'win932',
  'windows932',
  'shiftjis2004',
  'big5',
  'win950',
  'windows950',
  'gbk',
  'win936',
  'windows936',
  'cp936',
  'uhc',
  'win949',
  'windows949',
  'gb18030',
  'johab',
]);

export function settingAnalysis(stmt: VariableSetStmt, statement: () => string): StatementAnalysis {
  const name = stmt.name ?? '';
  switch (stmt.kind) {
    case 'VAR_SET_MULTI':
      return multiSettingAnalysis(stmt, name, statement);
    case 'VAR_RESET_ALL':
      return onAnyLink('session-state', 'reset-all', [
        { kind: 'reset-all', statement: statement() },
        { kind: 'transaction-characteristics', scope: 'session', access: 'default', isolation: 'default', deferrable: 'default' },
      ]);
    case 'VAR_RESET':
      return resetAnalysis(name, statement());
    case 'VAR_SET_VALUE':
    case 'VAR_SET_DEFAULT':
    case 'VAR_SET_CURRENT':
      return setAnalysis(stmt, name, statement());
    default:
      return onPrimary('session-state', name);
  }
}

/** SET TRANSACTION ..., SET SESSION CHARACTERISTICS AS TRANSACTION ..., SET TRANSACTION SNAPSHOT. */
function multiSettingAnalysis(stmt: VariableSetStmt, name: string, statement: () => string): StatementAnalysis {
  if (name === 'TRANSACTION') {
    return characteristicsAnalysis('transaction', transactionOptions(defElems(stmt.args)), 'set-transaction');
  }
  if (name === 'SESSION CHARACTERISTICS') {
    // It sets the default_transaction_* settings: one replayable SET for each it names.
    const options = transactionOptions(defElems(stmt.args));
    const text = statement();
    const sets: SessionEffect[] = (['access', 'isolation', 'deferrable'] as const)
      .filter((field) => options[field] !== undefined)
      .map((field) => ({ kind: 'set', name: SESSION_DEFAULTS[field], scope: 'session', statement: text }));
    return characteristicsAnalysis('session', options, 'session-characteristics', sets);
  }
  // The snapshot was exported by a session of the primary (pg_export_snapshot runs there).
  if (name === 'TRANSACTION SNAPSHOT') return onPrimary('transaction-control', 'transaction-snapshot');
  return onPrimary('session-state', 'set');
}

function resetAnalysis(name: string, statement: string): StatementAnalysis {
  const reset: SessionEffect = { kind: 'reset', name, statement };
  const characteristic = CHARACTERISTIC_SETTINGS.get(name);
  if (characteristic !== undefined) {
    const effects = characteristic.scope === 'session' ? [reset] : [];
    return characteristicsAnalysis(characteristic.scope, backToDefault(characteristic.field), name, effects);
  }
  return onAnyLink('session-state', name, [reset]);
}

function setAnalysis(stmt: VariableSetStmt, name: string, statement: string): StatementAnalysis {
  const scope = stmt.is_local === true ? 'transaction' : 'session';
  const set: SessionEffect = { kind: 'set', name, scope, statement };
  const toDefault = stmt.kind !== 'VAR_SET_VALUE';
  const value = toDefault ? undefined : constantText(stmt.args?.[0]);

  const characteristic = CHARACTERISTIC_SETTINGS.get(name);
  if (characteristic !== undefined) {
    const found = characteristicValue(characteristic.field, toDefault, value);
    // A value PostgreSQL would refuse changes nothing: only the SET itself is reported.
    if (found === undefined) return onAnyLink('session-state', name, [set]);
    const effects = characteristic.scope === 'session' ? [set] : [];
    return characteristicsAnalysis(characteristic.scope, found, name, effects);
  }

  const pin = settingPin(name, toDefault, value);
  if (pin !== undefined) {
    const effects: StatementEffect[] = [set, { kind: 'pin', pin, scope } satisfies PinEffect];
    return onPrimary('session-state', name, effects);
  }
  return onAnyLink('session-state', name, [set]);
}

function backToDefault(field: keyof TransactionCharacteristics): TransactionCharacteristics {
  switch (field) {
    case 'access':
      return { access: 'default' };
    case 'isolation':
      return { isolation: 'default' };
    case 'deferrable':
      return { deferrable: 'default' };
  }
}

function characteristicValue(field: keyof TransactionCharacteristics, toDefault: boolean, value: string | undefined): TransactionCharacteristics | undefined {
  if (toDefault) return backToDefault(field);
  if (field === 'isolation') {
    const level = isolationLevel(value);
    return level === undefined ? undefined : { isolation: level };
  }
  const flag = booleanSetting(value);
  if (flag === undefined) return undefined;
  return field === 'access' ? { access: flag ? 'read-only' : 'read-write' } : { deferrable: flag };
}

function settingPin(name: string, toDefault: boolean, value: string | undefined): PinReason | undefined {
  if (toDefault) return undefined;
  const lower = value?.toLowerCase();
  switch (name) {
    case 'role':
      return lower === 'none' ? undefined : 'role';
    case 'session_authorization':
      return 'session-authorization';
    case 'standard_conforming_strings':
      return booleanSetting(value) === false ? 'non-standard-strings' : undefined;
    case 'client_encoding':
      return lower !== undefined && CLIENT_ONLY_ENCODINGS.has(lower.replace(/[^a-z0-9]/g, '')) ? 'client-encoding' : undefined;
    default:
      return undefined;
  }
}
