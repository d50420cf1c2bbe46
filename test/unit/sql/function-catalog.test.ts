import { describe, expect, it } from 'vitest';
import {
  allowedFunctions,
  emptyFunctionCatalog,
  FUNCTION_CATALOG_QUERY,
  FunctionCatalogRowError,
  functionCatalogFromRows,
  judgeFunction,
  withAllowedFunctions,
} from '../../../src/sql/function-catalog.js';
import { pg15Catalog, pg15CatalogRows, pg15FixtureRowCount } from './catalog-fixture.js';

const row = (schema_name: string, function_name: unknown, volatile: unknown) => ({ schema_name, function_name, volatile });

describe('functionCatalogFromRows', () => {
  it('reads the rows of a real PostgreSQL 15 catalog', () => {
    const catalog = pg15Catalog();
    expect(pg15CatalogRows).toHaveLength(pg15FixtureRowCount);
    expect(catalog.functionCount).toBe(pg15FixtureRowCount);
    expect(catalog.byName.get('count')?.schemas).toEqual(new Set(['pg_catalog']));
    // Built-in volatility is not recorded: random() is harmless, the stateful ones are named in builtin-functions.ts.
    expect(catalog.byName.get('random')?.volatileIn).toEqual(new Set());
    expect(catalog.byName.get('next_order_number')?.volatileIn).toEqual(new Set(['app']));
    expect(catalog.byName.get('normalise')?.schemas).toEqual(new Set(['app', 'public']));
    expect(catalog.byName.get('normalise')?.volatileIn).toEqual(new Set(['app']));
  });

  it('accepts volatile as a boolean or as PostgreSQL text', () => {
    const catalog = functionCatalogFromRows([row('app', 'a', true), row('app', 'b', 't'), row('app', 'c', 'f'), row('app', 'd', false)]);
    expect([...(catalog.byName.get('a')?.volatileIn ?? [])]).toEqual(['app']);
    expect([...(catalog.byName.get('b')?.volatileIn ?? [])]).toEqual(['app']);
    expect([...(catalog.byName.get('c')?.volatileIn ?? [])]).toEqual([]);
    expect([...(catalog.byName.get('d')?.volatileIn ?? [])]).toEqual([]);
  });

  it('refuses a malformed row rather than miss a function', () => {
    expect(() => functionCatalogFromRows([null])).toThrow(FunctionCatalogRowError);
    expect(() => functionCatalogFromRows([row('', 'f', true)])).toThrow(/row 0: schema_name/);
    expect(() => functionCatalogFromRows([row('app', 'ok', false), row('app', 42, true)])).toThrow(/row 1: function_name/);
    expect(() => functionCatalogFromRows([row('app', 'f', 'yes')])).toThrow(/volatile is not a boolean/);
  });

  it('is immutable', () => {
    const catalog = functionCatalogFromRows([row('app', 'f', true)]);
    expect(Object.isFrozen(catalog)).toBe(true);
    expect(Object.isFrozen(catalog.byName.get('f'))).toBe(true);
    expect(Object.isFrozen(emptyFunctionCatalog)).toBe(true);
  });

  it("ships a query that leaves other sessions' temporary schemas out", () => {
    expect(FUNCTION_CATALOG_QUERY).toMatch(/FROM pg_catalog\.pg_proc/);
    expect(FUNCTION_CATALOG_QUERY).toMatch(/bool_or\(p\.provolatile = 'v'\) AS volatile/);
    expect(FUNCTION_CATALOG_QUERY).toContain("NOT LIKE 'pg\\_temp\\_%'");
  });
});

describe('judgeFunction', () => {
  const catalog = functionCatalogFromRows([
    row('pg_catalog', 'random', true),
    row('pg_catalog', 'lower', false),
    row('app', 'bump', true),
    row('app', 'lower', true),
    row('report', 'bump', false),
    row('report', 'total', false),
  ]);

  it('trusts pg_catalog, even its volatile functions', () => {
    expect(judgeFunction(catalog, { name: 'random' })).toBe('safe');
    expect(judgeFunction(catalog, { schema: 'pg_catalog', name: 'random' })).toBe('safe');
  });

  it('fails closed on an unqualified name volatile in any schema', () => {
    expect(judgeFunction(catalog, { name: 'bump' })).toBe('volatile');
    // app.lower shadows pg_catalog.lower for whoever puts app first in search_path... or not: we cannot tell.
    expect(judgeFunction(catalog, { name: 'lower' })).toBe('volatile');
    expect(judgeFunction(catalog, { name: 'total' })).toBe('safe');
  });

  it('judges a qualified name by its own schema only', () => {
    expect(judgeFunction(catalog, { schema: 'report', name: 'bump' })).toBe('safe');
    expect(judgeFunction(catalog, { schema: 'app', name: 'bump' })).toBe('volatile');
    expect(judgeFunction(catalog, { schema: 'pg_catalog', name: 'lower' })).toBe('safe');
  });

  it('says unknown for a name, or a schema, it has never seen', () => {
    expect(judgeFunction(catalog, { name: 'nope' })).toBe('unknown');
    expect(judgeFunction(catalog, { schema: 'other', name: 'total' })).toBe('unknown');
    expect(judgeFunction(emptyFunctionCatalog, { name: 'count' })).toBe('unknown');
  });

  it('lets the allow-list lift volatile and unknown names', () => {
    const anywhere = withAllowedFunctions(catalog, allowedFunctions(['bump', 'not_yet_created']));
    expect(judgeFunction(anywhere, { name: 'bump' })).toBe('safe');
    expect(judgeFunction(anywhere, { schema: 'app', name: 'bump' })).toBe('safe');
    expect(judgeFunction(anywhere, { name: 'not_yet_created' })).toBe('safe');

    const inApp = withAllowedFunctions(catalog, allowedFunctions(['app.bump', 'app.lower']));
    expect(judgeFunction(inApp, { schema: 'app', name: 'bump' })).toBe('safe');
    expect(judgeFunction(inApp, { name: 'bump' })).toBe('safe'); // report.bump is not volatile
    expect(judgeFunction(inApp, { name: 'lower' })).toBe('safe');
  });

  it("keeps an unqualified name volatile while another schema's copy is not allowed", () => {
    const twoVolatile = functionCatalogFromRows([row('app', 'bump', true), row('ops', 'bump', true)], allowedFunctions(['app.bump']));
    expect(judgeFunction(twoVolatile, { name: 'bump' })).toBe('volatile');
    expect(judgeFunction(twoVolatile, { schema: 'app', name: 'bump' })).toBe('safe');
    expect(judgeFunction(twoVolatile, { schema: 'ops', name: 'bump' })).toBe('volatile');
  });

  it('matches names exactly, as pg_proc spells them', () => {
    const quoted = functionCatalogFromRows([row('Reports', 'Monthly', true)], allowedFunctions(['Reports.Monthly']));
    expect(judgeFunction(quoted, { schema: 'Reports', name: 'Monthly' })).toBe('safe');
    expect(judgeFunction(quoted, { schema: 'reports', name: 'monthly' })).toBe('unknown');
  });
});

describe('allowedFunctions', () => {
  it('splits schema-qualified entries at the last dot', () => {
    const allowed = allowedFunctions(['my_random', 'util.jitter', 'util.noise']);
    expect(allowed.anySchema).toEqual(new Set(['my_random']));
    expect(allowed.inSchema.get('jitter')).toEqual(new Set(['util']));
    expect(allowed.inSchema.get('noise')).toEqual(new Set(['util']));
  });
});
