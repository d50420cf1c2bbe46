import { beforeAll, describe, expect, it } from 'vitest';
import { loadSqlParser } from '../../../src/sql/sql-parser.js';
import { analyseText, classifyStatement, verdictOf } from '../../../src/sql/classify.js';
import { pg15Catalog } from './catalog-fixture.js';

beforeAll(async () => {
  await loadSqlParser();
});

const catalog = pg15Catalog();

describe('texts the classifier will not or cannot read', () => {
  it('does not parse beyond the length limit, and says the effects are unknown', () => {
    const text = `SELECT ${'1 + '.repeat(100)}1`;
    expect(verdictOf(analyseText(text, { maxParsedLength: 100 }), catalog)).toMatchObject({
      destination: 'primary',
      reason: 'unparsed',
      detail: 'too-long',
      effectsKnown: false,
    });
    expect(verdictOf(analyseText(text, { maxParsedLength: 1000 }), catalog).destination).toBe('replica');
  });

  it('fails closed when the parser itself gives up, and parses the next text normally', () => {
    const deep = `SELECT ${Array.from({ length: 50_000 }, () => '1').join(' + ')}`;
    expect(classifyStatement(deep, catalog)).toMatchObject({ destination: 'primary', reason: 'unparsed', effectsKnown: false });
    expect(classifyStatement('SELECT 1', catalog).destination).toBe('replica');
  });

  it('reads deep but reasonable nesting', () => {
    expect(classifyStatement(`SELECT ${'('.repeat(2000)}1${')'.repeat(2000)}`, catalog).destination).toBe('replica');
    expect(classifyStatement(`SELECT ${'(SELECT '.repeat(500)}nextval('s')${')'.repeat(500)}`, catalog)).toMatchObject({
      reason: 'stateful-function',
      detail: 'nextval',
    });
  });

  it('refuses a NUL byte rather than guess what the server would read', () => {
    expect(classifyStatement('SELECT 1\u0000', catalog)).toMatchObject({ destination: 'primary', detail: 'nul-byte', effectsKnown: false });
  });

  it('says a syntax error has no effects: PostgreSQL runs none of a text it cannot parse', () => {
    expect(classifyStatement('SET search_path = app; SELEC 1', catalog)).toMatchObject({
      reason: 'unparsed',
      detail: 'syntax-error',
      effects: [],
      effectsKnown: true,
    });
  });
});
