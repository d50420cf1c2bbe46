import v8 from 'node:v8';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSqlParser } from '../../../src/sql/sql-parser.js';
import { StatementClassifier } from '../../../src/sql/classifier-cache.js';
import { allowedFunctions, functionCatalogFromRows, withAllowedFunctions, type FunctionCatalog } from '../../../src/sql/function-catalog.js';
import { PreparedStatementVerdicts } from '../../../src/sql/prepared-statements.js';
import { pg15Catalog } from './catalog-fixture.js';

beforeAll(async () => {
  await loadSqlParser();
});

const catalog = pg15Catalog();

describe('StatementClassifier', () => {
  it('parses a text once and answers the same verdict from the cache', () => {
    const classifier = new StatementClassifier(catalog);
    const first = classifier.classify('SELECT * FROM users WHERE id = $1');
    const second = classifier.classify('SELECT * FROM users WHERE id = $1');
    expect(second).toBe(first);
    expect(classifier.counters()).toMatchObject({ hits: 1, misses: 1, parses: 1, entries: 1 });
    expect(classifier.hitRatio()).toBe(0.5);
  });

  it('reports a hit ratio and cumulative parse time that metrics can read', () => {
    let clock = 0;
    const classifier = new StatementClassifier(catalog, { now: () => (clock += 2) });
    for (let i = 0; i < 10; i++) classifier.classify(`SELECT c${i % 2}`);
    const counters = classifier.counters();
    expect(counters).toMatchObject({ hits: 8, misses: 2, parses: 2 });
    expect(classifier.hitRatio()).toBe(0.8);
    // Each parse is timed by two clock reads 2 ms apart.
    expect(counters.parseSeconds).toBeCloseTo(0.004);
  });

  it('keeps at most `capacity` texts, dropping the least recently used', () => {
    const classifier = new StatementClassifier(catalog, { capacity: 3 });
    for (const text of ['SELECT c1', 'SELECT c2', 'SELECT c3']) classifier.classify(text);
    classifier.classify('SELECT c1'); // now the most recent
    classifier.classify('SELECT c4'); // evicts SELECT c2
    expect(classifier.counters()).toMatchObject({ entries: 3, evictions: 1 });
    const before = classifier.counters().misses;
    classifier.classify('SELECT c1');
    classifier.classify('SELECT c3');
    expect(classifier.counters().misses).toBe(before);
    classifier.classify('SELECT c2');
    expect(classifier.counters().misses).toBe(before + 1);
    expect(classifier.counters().entries).toBe(3);
  });

  it('stays bounded under a stream of distinct texts', () => {
    const classifier = new StatementClassifier(catalog, { capacity: 100 });
    for (let i = 0; i < 1000; i++) classifier.classify(`SELECT * FROM t${i} WHERE id = 1`);
    expect(classifier.counters()).toMatchObject({ entries: 100, evictions: 900, misses: 1000, hits: 0 });
  });

  it('bounds the summed length of the cached texts too', () => {
    const classifier = new StatementClassifier(catalog, { maxCachedTotalLength: 100 });
    const text = (i: number) => `SELECT c${i} AS ${'x'.repeat(30)}`; // 43 characters and a 2-character key prefix
    for (let i = 0; i < 5; i++) classifier.classify(text(i));
    const { entries, cachedLength } = classifier.counters();
    expect(cachedLength).toBeLessThanOrEqual(100);
    expect(entries).toBe(2);
  });

  it('shares one entry among texts that differ only in literal values and comments', () => {
    const classifier = new StatementClassifier(catalog);
    for (let i = 0; i < 50; i++) expect(classifier.classify(`SELECT v FROM t WHERE id = ${i} AND note = 'n${i}' /* call ${i} */`).destination).toBe('replica');
    expect(classifier.counters()).toMatchObject({ parses: 1, misses: 1, hits: 49, entries: 1 });
    expect(classifier.classify("UPDATE t SET v = 1 WHERE id = 'x'").destination).toBe('primary');
  });

  it('keeps statements whose verdict carries their own text (SET) by that text, not by shape', () => {
    const classifier = new StatementClassifier(catalog);
    const first = classifier.classify("SET application_name = 'a'");
    const second = classifier.classify("SET application_name = 'b'");
    expect(first.effects).toMatchObject([{ kind: 'set', statement: "SET application_name = 'a'" }]);
    expect(second.effects).toMatchObject([{ kind: 'set', statement: "SET application_name = 'b'" }]);
    expect(classifier.counters()).toMatchObject({ parses: 2, hits: 0 });
  });

  it('does not cache huge texts, and does not parse beyond the parse limit', () => {
    const classifier = new StatementClassifier(catalog, { maxCachedLength: 1000, maxParsedLength: 5000 });
    const long = `SELECT ${'1 + '.repeat(400)}1`;
    expect(classifier.classify(long).destination).toBe('replica');
    expect(classifier.classify(long).destination).toBe('replica');
    expect(classifier.counters()).toMatchObject({ uncached: 2, entries: 0, parses: 2, hits: 0 });

    const huge = `SELECT ${'1 + '.repeat(2000)}1`;
    expect(classifier.classify(huge)).toMatchObject({ destination: 'primary', reason: 'unparsed', detail: 'too-long', effectsKnown: false });
  });

  it('sends a huge single write to the primary by its first keyword', () => {
    const classifier = new StatementClassifier(catalog, { maxParsedLength: 1000 });
    const insert = `INSERT INTO t VALUES ${Array.from({ length: 500 }, (_, i) => `(${i})`).join(', ')}`;
    expect(classifier.classify(insert)).toMatchObject({ destination: 'primary', reason: 'write', detail: 'insert', effectsKnown: true });
  });

  it('re-judges cached texts against a refreshed catalog without parsing again', () => {
    const before = functionCatalogFromRows([{ schema_name: 'app', function_name: 'bump', volatile: false }]);
    const classifier = new StatementClassifier(before);
    expect(classifier.classify('SELECT app.bump()').destination).toBe('replica');

    classifier.useCatalog(functionCatalogFromRows([{ schema_name: 'app', function_name: 'bump', volatile: true }]));
    expect(classifier.classify('SELECT app.bump()')).toMatchObject({ destination: 'primary', reason: 'volatile-function', detail: 'app.bump' });

    classifier.useCatalog(withAllowedFunctions(classifier.catalog, allowedFunctions(['app.bump'])));
    expect(classifier.classify('SELECT app.bump()').destination).toBe('replica');
    expect(classifier.counters()).toMatchObject({ parses: 1, hits: 2 });
  });

  it('keeps no refreshed-away catalog alive through an entry not hit since', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const classifier = new StatementClassifier(pg15Catalog());
    const old = ((): WeakRef<FunctionCatalog> => {
      const catalog = pg15Catalog();
      classifier.useCatalog(catalog);
      classifier.classify('SELECT app.bump()');
      return new WeakRef(catalog);
    })();
    classifier.useCatalog(pg15Catalog());
    // A WeakRef's target lives at least until the current job ends.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(old.deref()).toBeUndefined();
    expect(classifier.counters()).toMatchObject({ entries: 1 });
  });

  it("resolves EXECUTE against each session's own prepared statements, from one cache entry", () => {
    const classifier = new StatementClassifier(catalog);
    const reads = new PreparedStatementVerdicts();
    reads.parsed('p', classifier.classify('SELECT 1'));
    const writes = new PreparedStatementVerdicts();
    writes.parsed('p', classifier.classify('INSERT INTO t VALUES (1)'));

    expect(classifier.classify('EXECUTE p', reads.lookup).destination).toBe('replica');
    expect(classifier.classify('EXECUTE p', writes.lookup)).toMatchObject({ destination: 'primary', reason: 'write' });
    expect(classifier.classify('EXECUTE p')).toMatchObject({ destination: 'primary', reason: 'prepared-statement' });
    // SELECT 1 and EXECUTE p (the INSERT went by its first keyword): EXECUTE p was analysed once for all three sessions.
    expect(classifier.counters()).toMatchObject({ entries: 2, parses: 2, hits: 2, byFirstKeyword: 1 });
  });

  it('caches syntax errors as well: a broken text is as repetitive as a good one', () => {
    const classifier = new StatementClassifier(catalog);
    classifier.classify('SELEC 1');
    classifier.classify('SELEC 1');
    expect(classifier.counters()).toMatchObject({ hits: 1, parses: 1 });
  });

  it('keeps writes decided by their first keyword out of the cache, so they push out no read', () => {
    const classifier = new StatementClassifier(catalog, { capacity: 2 });
    classifier.classify('SELECT v FROM t WHERE id = 1');
    for (let i = 0; i < 100; i++) {
      expect(classifier.classify(`UPDATE t SET v = ${i} WHERE id = ${i}`)).toMatchObject({ destination: 'primary', reason: 'write', detail: 'update' });
    }
    expect(classifier.classify('SELECT v FROM t WHERE id = 2').destination).toBe('replica');
    expect(classifier.counters()).toMatchObject({ byFirstKeyword: 100, misses: 1, hits: 1, evictions: 0, entries: 1 });
    // The keyword's shortcut is the parser's verdict; a write whose keyword cannot decide it is parsed and cached.
    expect(classifier.classify('UPDATE t SET v = 1; SELECT 1')).toMatchObject({ destination: 'primary' });
    expect(classifier.counters()).toMatchObject({ byFirstKeyword: 100, misses: 2, entries: 2 });
  });

  it('keeps a text hit now and then cached through a stream of distinct ones', () => {
    const classifier = new StatementClassifier(catalog, { capacity: 40 });
    classifier.classify('SELECT hot FROM t');
    for (let i = 0; i < 2000; i++) {
      classifier.classify(`SELECT c${i} FROM t${i}`);
      if (i % 20 === 0) classifier.classify('SELECT hot FROM t');
    }
    // One miss for hot (its first use), one per distinct text; hot was hit every time after.
    expect(classifier.counters()).toMatchObject({ misses: 2001, hits: 100, entries: 40 });
  });

  it('with capacity 0 caches nothing', () => {
    const classifier = new StatementClassifier(catalog, { capacity: 0 });
    classifier.classify('SELECT 1');
    classifier.classify('SELECT 1');
    expect(classifier.counters()).toMatchObject({ entries: 0, hits: 0, misses: 2 });
  });
});
