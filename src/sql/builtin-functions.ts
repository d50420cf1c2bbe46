/**
 * Built-in functions that must not run on a replica, whatever the catalog says.
 *
 * pg_catalog functions are otherwise trusted: their volatile ones (random, clock_timestamp,
 * pg_sleep, gen_random_uuid) are harmless on a replica. These are the exceptions: they write,
 * hold state in the backend that runs them, act on that server, or answer differently on a
 * standby. They are matched by name in any schema (a user's `app.nextval` goes to the primary
 * too: failing closed costs one statement on the primary), and the configuration's allow-list
 * cannot lift them.
 */
import type { FuncCall } from './parse-tree.js';
import { booleanSetting, constantText, functionName } from './parse-tree.js';
import type { PinEffect } from './statement-effects.js';

export type BuiltinRule = { readonly kind: 'stateful'; readonly pin?: PinEffect } | { readonly kind: 'writability-probe' };

const stateful = (names: string[]): [string, BuiltinRule][] => names.map((n) => [n, { kind: 'stateful' }]);
const pinned = (names: string[], pin: PinEffect): [string, BuiltinRule][] => names.map((n) => [n, { kind: 'stateful', pin }]);

const sessionAdvisory: PinEffect = { kind: 'pin', pin: 'advisory-lock', scope: 'session' };
const transactionAdvisory: PinEffect = { kind: 'pin', pin: 'advisory-xact-lock', scope: 'transaction' };

const RULES: ReadonlyMap<string, BuiltinRule> = new Map<string, BuiltinRule>([
  // Sequences: nextval/setval write; currval/lastval read what this backend's nextval did.
  ...stateful(['nextval', 'setval', 'currval', 'lastval']),
  // Advisory locks live in the backend that takes them: a lock on a replica excludes nobody.
  ...pinned(['pg_advisory_lock', 'pg_advisory_lock_shared', 'pg_try_advisory_lock', 'pg_try_advisory_lock_shared'], sessionAdvisory),
  ...pinned(['pg_advisory_xact_lock', 'pg_advisory_xact_lock_shared', 'pg_try_advisory_xact_lock', 'pg_try_advisory_xact_lock_shared'], transactionAdvisory),
  ...stateful(['pg_advisory_unlock', 'pg_advisory_unlock_shared', 'pg_advisory_unlock_all']),
  // set_config is judged by its third argument below; setseed steers this backend's random().
  ['set_config', { kind: 'stateful' }],
  ...pinned(['setseed'], { kind: 'pin', pin: 'setseed', scope: 'session' }),
  ['pg_notify', { kind: 'stateful' }],
  // Transaction ids: assigning one is a write; the answer belongs to this server.
  ...stateful(['txid_current', 'txid_current_if_assigned', 'pg_current_xact_id', 'pg_current_xact_id_if_assigned']),
  // Large objects without the lo_ prefix (lo_* is matched by prefix).
  ...stateful(['loread', 'lowrite']),
  // An exported snapshot is imported by other sessions of the same server, the primary.
  ['pg_export_snapshot', { kind: 'stateful' }],
  // Acting on the server that runs them: on a replica they would hit the wrong one.
  ...stateful([
    'pg_terminate_backend',
    'pg_cancel_backend',
    'pg_reload_conf',
    'pg_rotate_logfile',
    'pg_switch_wal',
    'pg_create_restore_point',
    'pg_current_wal_lsn',
    'pg_current_wal_insert_lsn',
    'pg_current_wal_flush_lsn',
    'pg_backup_start',
    'pg_backup_stop',
    'pg_start_backup',
    'pg_stop_backup',
    'pg_promote',
    'pg_wal_replay_pause',
    'pg_wal_replay_resume',
    'pg_log_backend_memory_contexts',
    'pg_import_system_collations',
    'pg_create_physical_replication_slot',
    'pg_create_logical_replication_slot',
    'pg_drop_replication_slot',
    'pg_copy_physical_replication_slot',
    'pg_copy_logical_replication_slot',
    'pg_replication_slot_advance',
    'pg_logical_slot_get_changes',
    'pg_logical_slot_get_binary_changes',
    'pg_logical_slot_peek_changes',
    'pg_logical_slot_peek_binary_changes',
    'pg_logical_emit_message',
    'pg_sync_replication_slots',
    // adminpack installs these into pg_catalog; they write server files.
    'pg_file_write',
    'pg_file_rename',
    'pg_file_unlink',
    'pg_file_sync',
  ]),
  ['pg_is_in_recovery', { kind: 'writability-probe' }],
]);

/** Prefixes of families: lo_import, lo_export, lo_create, ...; dblink, dblink_exec, dblink_connect, ... */
const STATEFUL_PREFIXES = ['lo_', 'dblink', 'pg_advisory', 'pg_try_advisory', 'pg_stat_reset', 'pg_replication_origin_'];

/** Settings whose value tells a client whether it may write; see 'writability-probe'. */
export const WRITABILITY_SETTINGS: ReadonlySet<string> = new Set(['transaction_read_only', 'in_hot_standby']);

export interface BuiltinJudgement {
  readonly rule: BuiltinRule;
  /** The name as the text wrote it, schema included: the verdict's detail. */
  readonly detail: string;
}

/** The rule for a call to a built-in that must not run on a replica, or undefined. */
export function builtinRule(call: FuncCall): BuiltinJudgement | undefined {
  const fn = functionName(call);
  if (fn === undefined) return undefined;
  const detail = fn.schema === undefined ? fn.name : `${fn.schema}.${fn.name}`;
  const name = fn.name.toLowerCase(); // "NEXTVAL"(...) is not nextval, but failing closed on it is cheap.
  if (name === 'set_config') return { rule: setConfigRule(call), detail };
  if (name === 'current_setting') {
    const setting = constantText(call.args?.[0])?.toLowerCase();
    return setting !== undefined && WRITABILITY_SETTINGS.has(setting) ? { rule: { kind: 'writability-probe' }, detail } : undefined;
  }
  const rule = RULES.get(name) ?? (STATEFUL_PREFIXES.some((p) => name.startsWith(p)) ? { kind: 'stateful' as const } : undefined);
  return rule === undefined ? undefined : { rule, detail };
}

/** set_config(name, value, is_local): only a literal `true` keeps it to the transaction. */
function setConfigRule(call: FuncCall): BuiltinRule {
  const isLocal = booleanSetting(constantText(call.args?.[2]));
  return isLocal === true ? { kind: 'stateful' } : { kind: 'stateful', pin: { kind: 'pin', pin: 'set-config', scope: 'session' } };
}
