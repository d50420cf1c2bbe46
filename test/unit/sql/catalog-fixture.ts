import { readFileSync } from 'node:fs';
import { allowedFunctions, functionCatalogFromRows, type FunctionCatalog } from '../../../src/sql/function-catalog.js';

interface CompactCatalog {
  rows: number;
  schemas: Record<string, { volatile: string[]; other: string[] }>;
}

const compact = JSON.parse(readFileSync(new URL('./fixtures/pg15-function-catalog.json', import.meta.url), 'utf8')) as CompactCatalog;

/** The fixture as node-postgres would return FUNCTION_CATALOG_QUERY's rows. */
export const pg15CatalogRows: { schema_name: string; function_name: string; volatile: boolean }[] = Object.entries(compact.schemas).flatMap(([schema, { volatile, other }]) => [
  ...volatile.map((name) => ({ schema_name: schema, function_name: name, volatile: true })),
  ...other.map((name) => ({ schema_name: schema, function_name: name, volatile: false })),
]);

export const pg15FixtureRowCount = compact.rows;

export function pg15Catalog(allow: readonly string[] = []): FunctionCatalog {
  return functionCatalogFromRows(pg15CatalogRows, allowedFunctions(allow));
}
