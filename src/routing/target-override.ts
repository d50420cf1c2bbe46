import type { RouteKind } from '../config/types.js';
import { findSettings, splitOptionWords, type OptionSetting } from './postgres-options.js';
import { ROUTE_KINDS } from './route-words.js';

/**
 * A client may choose a route per connection, within what its listener allows:
 *   psql "host=... options='-c router.target=sync'"   (libpq sends it in the `options` parameter)
 *   or the startup parameter `router.target=sync`     (JDBC / node-postgres can send any parameter)
 */
export interface TargetOverride {
  /** The route asked for; absent when the client did not ask. */
  target?: RouteKind;
  /** Set when the request was malformed or not allowed: refuse the connection with this text. */
  error?: string;
  /** `unknown`: the value names no route at all; `refused`: malformed, conflicting or not allowed here. */
  errorKind?: 'unknown' | 'refused';
}

// A Map, not an object literal: a client-chosen value like "constructor" must not find Object's members.
const ALIASES: ReadonlyMap<string, RouteKind> = new Map([
  ['read-write', 'primary'],
  ['standby', 'replica'],
]);

/** `<prefix>.target`, the name clients use. */
export function targetParameterName(prefix: string): string {
  return `${prefix}.target`;
}

export function parseTargetOverride(startupParams: Readonly<Record<string, string>>, prefix: string, allowed: readonly RouteKind[], listenerName?: string): TargetOverride {
  const parameter = targetParameterName(prefix);
  const wanted = normaliseName(parameter);

  let fromOptions: string | undefined;
  const options = startupParams['options'];
  if (options !== undefined) {
    for (const setting of ourSettings(options, wanted)) {
      if (setting.value === undefined) return { errorKind: 'refused', error: `${parameter} needs a value, e.g. -c ${parameter}=replica` };
      fromOptions = setting.value; // later settings win, as in PostgreSQL
    }
  }
  let direct: string | undefined;
  for (const [key, value] of Object.entries(startupParams)) {
    if (key !== 'options' && normaliseName(key) === wanted) direct = value;
  }

  if (fromOptions !== undefined && direct !== undefined && normaliseValue(fromOptions) !== normaliseValue(direct)) {
    return { errorKind: 'refused', error: `conflicting ${parameter}: "${fromOptions}" in options but "${direct}" as a startup parameter` };
  }
  const raw = direct ?? fromOptions;
  if (raw === undefined) return {};

  const target = routeFromValue(raw);
  if (target === undefined) {
    return { errorKind: 'unknown', error: `unknown ${parameter} "${raw}" (expected one of: ${ROUTE_KINDS.join(', ')})` };
  }
  if (!allowed.includes(target)) {
    const where = listenerName === undefined ? 'this listener' : `listener "${listenerName}"`;
    return { errorKind: 'refused', error: `target "${target}" is not allowed on ${where} (allowed: ${allowed.join(', ')})` };
  }
  return { target };
}

/**
 * The startup parameters to forward to the backend: our setting removed from `options` (other
 * settings kept byte for byte) and the direct parameter dropped. PostgreSQL would accept an
 * unknown dotted setting, but it is ours, not the server's.
 */
export function stripTargetOverride(params: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  const wanted = normaliseName(targetParameterName(prefix));
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (key === 'options') {
      const words = splitOptionWords(value);
      const drop = new Set(ourSettings(value, wanted).flatMap((s) => s.words));
      if (drop.size === 0) {
        out[key] = value;
        continue;
      }
      const kept = words.filter((_, i) => !drop.has(i)).map((w) => w.raw);
      if (kept.length > 0) out[key] = kept.join(' ');
      continue;
    }
    if (normaliseName(key) !== wanted) out[key] = value;
  }
  return out;
}

function ourSettings(options: string, wanted: string): OptionSetting[] {
  return findSettings(splitOptionWords(options)).filter((s) => normaliseName(s.name) === wanted);
}

/** Setting names are case-insensitive in PostgreSQL, and `-c`/`--` turn dashes into underscores. */
function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/-/g, '_');
}

function normaliseValue(value: string): string {
  return value.trim().toLowerCase().replace(/_/g, '-');
}

function routeFromValue(value: string): RouteKind | undefined {
  const v = normaliseValue(value);
  const alias = ALIASES.get(v);
  if (alias !== undefined) return alias;
  return (ROUTE_KINDS as readonly string[]).includes(v) ? (v as RouteKind) : undefined;
}
