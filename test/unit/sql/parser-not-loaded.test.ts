import { describe, expect, it } from 'vitest';
import { loadSqlParser, sqlParserLoaded } from '../../../src/sql/sql-parser.js';
import { classifyStatement } from '../../../src/sql/classify.js';
import { StatementClassifier } from '../../../src/sql/classifier-cache.js';
import { pg15Catalog } from './catalog-fixture.js';

// Vitest gives each test file its own module graph: nothing has loaded the parser here yet.
describe('before loadSqlParser()', () => {
  const catalog = pg15Catalog();

  it('fails closed: everything goes to the primary, effects unknown', () => {
    expect(sqlParserLoaded()).toBe(false);
    expect(classifyStatement('SELECT 1', catalog)).toMatchObject({
      destination: 'primary',
      reason: 'unparsed',
      detail: 'parser-not-loaded',
      effectsKnown: false,
    });
  });

  it('the first-keyword shortcut needs no parser', () => {
    expect(classifyStatement('INSERT INTO t VALUES (1)', catalog)).toMatchObject({ destination: 'primary', reason: 'write' });
  });

  it('the cache does not keep that answer, and classifies properly once loaded', async () => {
    const classifier = new StatementClassifier(catalog);
    expect(classifier.classify('SELECT 1').detail).toBe('parser-not-loaded');
    expect(classifier.counters().entries).toBe(0);
    await Promise.all([loadSqlParser(), loadSqlParser()]);
    expect(sqlParserLoaded()).toBe(true);
    expect(classifier.classify('SELECT 1')).toMatchObject({ destination: 'replica', reason: 'read-only' });
    expect(classifyStatement('SELECT 1', catalog).destination).toBe('replica');
  });
});
