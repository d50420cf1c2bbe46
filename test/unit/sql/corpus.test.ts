import { beforeAll, describe, expect, it } from 'vitest';
import { loadSqlParser } from '../../../src/sql/sql-parser.js';
import { analyseText, classifyStatement, verdictOf } from '../../../src/sql/classify.js';
import { emptyFunctionCatalog, type FunctionCatalog } from '../../../src/sql/function-catalog.js';
import type { PreparedStatementLookup } from '../../../src/sql/batch-verdict.js';
import { pinsOf, type StatementVerdict } from '../../../src/sql/statement-verdict.js';
import { primaryByFirstKeyword } from '../../../src/sql/first-keyword.js';
import { corpus, type CorpusEntry } from './corpus.js';
import { effectSignature } from './effect-signature.js';
import { pg15Catalog } from './catalog-fixture.js';

beforeAll(async () => {
  await loadSqlParser();
});

const fixture = pg15Catalog();

function catalogFor(entry: CorpusEntry): FunctionCatalog {
  if (entry.catalog === 'empty') return emptyFunctionCatalog;
  return entry.allow === undefined ? fixture : pg15Catalog(entry.allow);
}

function preparedFor(entry: CorpusEntry, catalog: FunctionCatalog): PreparedStatementLookup | undefined {
  if (entry.prepared === undefined) return undefined;
  const verdicts = new Map<string, StatementVerdict>(Object.entries(entry.prepared).map(([name, sql]) => [name, classifyStatement(sql, catalog)]));
  return (name) => verdicts.get(name);
}

function verdictFor(entry: CorpusEntry): StatementVerdict {
  const catalog = catalogFor(entry);
  return classifyStatement(entry.sql, catalog, preparedFor(entry, catalog));
}

const label = (entry: CorpusEntry): string => `${entry.sql.length > 90 ? `${entry.sql.slice(0, 87)}...` : entry.sql} (${entry.why})`;

describe('statement corpus', () => {
  it('has at least 200 statements, each with a why', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    for (const entry of corpus) expect(entry.why.length, entry.sql).toBeGreaterThan(0);
  });

  it.each(corpus.map((entry) => [label(entry), entry] as const))('%s', (_, entry) => {
    const verdict = verdictFor(entry);
    expect({
      destination: verdict.destination,
      reason: verdict.reason,
      detail: verdict.detail,
      anyLink: verdict.anyLink,
      effects: verdict.effects.map(effectSignature),
      statementCount: verdict.statementCount,
    }).toEqual({
      destination: entry.to,
      reason: entry.reason ?? (entry.to === 'replica' ? 'read-only' : undefined),
      detail: entry.detail,
      anyLink: entry.anyLink ?? false,
      effects: entry.effects ?? [],
      statementCount: entry.count ?? 1,
    });
  });
});

describe('what every verdict promises', () => {
  it('a replica verdict has reason read-only and a primary one does not', () => {
    for (const entry of corpus) {
      const verdict = verdictFor(entry);
      expect(verdict.reason === 'read-only', entry.sql).toBe(verdict.destination === 'replica');
    }
  });

  it('a verdict that pins the session sends the statement to the primary', () => {
    for (const entry of corpus) {
      const verdict = verdictFor(entry);
      if (pinsOf(verdict).some((pin) => pin.scope === 'session')) expect(verdict.destination, entry.sql).toBe('primary');
    }
  });

  it('the first-keyword shortcut agrees with the parser wherever it answers', () => {
    let answered = 0;
    for (const entry of corpus) {
      const shortcut = primaryByFirstKeyword(entry.sql);
      if (shortcut === undefined) continue;
      answered++;
      const parsed = verdictOf(analyseText(entry.sql, { firstKeyword: false }), catalogFor(entry));
      // A text the grammar refuses ('INSERT INTO') is the primary's to report either way.
      if (parsed.reason === 'unparsed') continue;
      expect({ destination: shortcut.destination, reason: shortcut.reason, effects: shortcut.effects }, entry.sql).toEqual({
        destination: parsed.destination,
        reason: parsed.reason,
        effects: parsed.effects,
      });
    }
    expect(answered).toBeGreaterThan(20);
  });

  it('verdicts are frozen: a cached one cannot be changed by its reader', () => {
    const verdict = classifyStatement('SELECT pg_advisory_lock(1)', fixture);
    expect(Object.isFrozen(verdict)).toBe(true);
    expect(Object.isFrozen(verdict.effects)).toBe(true);
    expect(Object.isFrozen(verdict.effects[0])).toBe(true);
  });
});

describe('statement corpus through one cached classifier', () => {
  it('gives every statement the verdict it gets alone, although texts of one shape share an entry', async () => {
    const { StatementClassifier } = await import('../../../src/sql/classifier-cache.js');
    const classifiers = new Map<FunctionCatalog, InstanceType<typeof StatementClassifier>>();
    // Twice over, and each statement also with other literal values, so entries are looked up by shape.
    const variants = (sql: string): string[] => [sql, sql.replace(/\b\d+\b/g, (n) => String(Number(n) + 7)), sql.replace(/'([a-z_]+)'/g, "'$1_other'"), sql];
    for (const entry of [...corpus, ...corpus]) {
      const catalog = catalogFor(entry);
      let classifier = classifiers.get(catalog);
      if (classifier === undefined) classifiers.set(catalog, (classifier = new StatementClassifier(catalog)));
      for (const text of variants(entry.sql)) {
        const prepared = preparedFor(entry, catalog);
        const alone = classifyStatement(text, catalog, prepared);
        const cached = classifier.classify(text, prepared);
        expect({ destination: cached.destination, reason: cached.reason, effects: cached.effects.map(effectSignature) }, label(entry)).toEqual({
          destination: alone.destination,
          reason: alone.reason,
          effects: alone.effects.map(effectSignature),
        });
      }
    }
  });
});
