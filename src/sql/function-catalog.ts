/**
 * What the router knows of the cluster's functions, read from the primary's pg_proc.
 *
 * A user function whose provolatile is `v` (outside pg_catalog and information_schema) may
 * write, so a read that calls it goes to the primary unless the configuration allow-lists it.
 * The catalog also lists every other function name, so that a function it does not know
 * (created since the last refresh, or no catalog read yet) goes to the primary too: an
 * empty catalog sends every statement that calls a function to the primary.
 *
 * A catalog is immutable; a refresh builds a new one and hands it to the classifier, which
 * re-judges cached statements against it without parsing them again.
 */
import type { FunctionName } from './parse-tree.js';

/**
 * Run on the primary. One row per schema and function name: overloads are folded, and the
 * name is volatile if any overload is (calls are matched by name, not by argument types).
 * Other sessions' temporary schemas are left out: their functions are not ours to call.
 */
export const FUNCTION_CATALOG_QUERY = `SELECT n.nspname AS schema_name,
       p.proname AS function_name,
       bool_or(p.provolatile = 'v') AS volatile
  FROM pg_catalog.pg_proc AS p
  JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
 WHERE n.nspname NOT LIKE 'pg\\_temp\\_%'
   AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
 GROUP BY n.nspname, p.proname
 ORDER BY n.nspname, p.proname`;

/** Schemas whose volatile functions are PostgreSQL's own: see builtin-functions.ts for those that matter. */
const TRUSTED_SCHEMAS: ReadonlySet<string> = new Set(['pg_catalog', 'information_schema']);

export interface FunctionsNamed {
  /** Schemas with a function of this name. */
  readonly schemas: ReadonlySet<string>;
  /** Of those, the untrusted schemas where it is volatile. */
  readonly volatileIn: ReadonlySet<string>;
}

/** Functions that are volatile but safe on a replica, from the configuration. */
export interface AllowedFunctions {
  /** Names allowed in every schema (`my_random`). */
  readonly anySchema: ReadonlySet<string>;
  /** `schema.name` entries: name → schemas. */
  readonly inSchema: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface FunctionCatalog {
  readonly byName: ReadonlyMap<string, FunctionsNamed>;
  readonly allowed: AllowedFunctions;
  /** Rows read, for logs and the status page. */
  readonly functionCount: number;
}

export type FunctionJudgement = 'safe' | 'volatile' | 'unknown';

const noAllowedFunctions: AllowedFunctions = Object.freeze({ anySchema: new Set<string>(), inSchema: new Map() });

/** The catalog before the first read: every function is unknown. */
export const emptyFunctionCatalog: FunctionCatalog = Object.freeze({
  byName: new Map(),
  allowed: noAllowedFunctions,
  functionCount: 0,
});

/**
 * The configuration's allow-list: `name` (any schema) or `schema.name`, spelled as in
 * pg_proc (case matters: an unquoted SQL name is lower case there).
 */
export function allowedFunctions(entries: readonly string[]): AllowedFunctions {
  const anySchema = new Set<string>();
  const inSchema = new Map<string, Set<string>>();
  for (const entry of entries) {
    const dot = entry.lastIndexOf('.');
    if (dot < 0) {
      anySchema.add(entry);
      continue;
    }
    const name = entry.slice(dot + 1);
    const schemas = inSchema.get(name) ?? new Set<string>();
    schemas.add(entry.slice(0, dot));
    inSchema.set(name, schemas);
  }
  return Object.freeze({ anySchema, inSchema });
}

export class FunctionCatalogRowError extends Error {
  constructor(index: number, problem: string) {
    super(`function catalog row ${index}: ${problem}`);
    this.name = 'FunctionCatalogRowError';
  }
}

/**
 * Builds a catalog from the rows of FUNCTION_CATALOG_QUERY, as node-postgres returns them
 * (`volatile` a boolean) or as text (`t`/`f`). A malformed row throws: a catalog that
 * silently missed functions would send their callers to a replica.
 */
export function functionCatalogFromRows(rows: readonly unknown[], allowed: AllowedFunctions = noAllowedFunctions): FunctionCatalog {
  const schemas = new Map<string, Set<string>>();
  const volatileIn = new Map<string, Set<string>>();
  rows.forEach((row, index) => {
    if (typeof row !== 'object' || row === null) throw new FunctionCatalogRowError(index, 'not an object');
    const { schema_name: schema, function_name: name, volatile } = row as Record<string, unknown>;
    if (typeof schema !== 'string' || schema === '') throw new FunctionCatalogRowError(index, 'schema_name is not a name');
    if (typeof name !== 'string' || name === '') throw new FunctionCatalogRowError(index, 'function_name is not a name');
    const isVolatile = volatileFlag(volatile);
    if (isVolatile === undefined) throw new FunctionCatalogRowError(index, 'volatile is not a boolean');
    addTo(schemas, name, schema);
    if (isVolatile && !TRUSTED_SCHEMAS.has(schema)) addTo(volatileIn, name, schema);
  });
  const byName = new Map<string, FunctionsNamed>();
  for (const [name, in_] of schemas) {
    byName.set(name, Object.freeze({ schemas: in_, volatileIn: volatileIn.get(name) ?? new Set<string>() }));
  }
  return Object.freeze({ byName, allowed, functionCount: rows.length });
}

/** The same functions with another allow-list (a configuration reload). */
export function withAllowedFunctions(catalog: FunctionCatalog, allowed: AllowedFunctions): FunctionCatalog {
  return Object.freeze({ ...catalog, allowed });
}

function volatileFlag(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 't' || value === 'true') return true;
  if (value === 'f' || value === 'false') return false;
  return undefined;
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set === undefined) map.set(key, new Set([value]));
  else set.add(value);
}

/**
 * May a call to `fn` run on a replica? An unqualified name is volatile if a function of that
 * name is volatile in any untrusted schema (search_path is the session's and may change:
 * fail closed); a qualified one only looks at its schema.
 */
export function judgeFunction(catalog: FunctionCatalog, fn: FunctionName): FunctionJudgement {
  const { allowed } = catalog;
  if (allowed.anySchema.has(fn.name)) return 'safe';
  const allowedIn = allowed.inSchema.get(fn.name);
  const named = catalog.byName.get(fn.name);
  if (fn.schema !== undefined) {
    if (allowedIn?.has(fn.schema) === true) return 'safe';
    if (named === undefined || !named.schemas.has(fn.schema)) return 'unknown';
    return named.volatileIn.has(fn.schema) ? 'volatile' : 'safe';
  }
  if (named === undefined) return allowedIn === undefined ? 'unknown' : 'safe';
  for (const schema of named.volatileIn) if (allowedIn?.has(schema) !== true) return 'volatile';
  return 'safe';
}
