import { beforeAll, describe, expect, it } from 'vitest';
import { loadSqlParser } from '../../../src/sql/sql-parser.js';
import { classifyStatement } from '../../../src/sql/classify.js';
import { StatementText } from '../../../src/sql/statement-text.js';
import type { SessionEffect } from '../../../src/sql/statement-effects.js';
import { pg15Catalog } from './catalog-fixture.js';

beforeAll(async () => {
  await loadSqlParser();
});

const catalog = pg15Catalog();
const replayed = (text: string): string[] =>
  classifyStatement(text, catalog)
    .effects.filter((e): e is Extract<SessionEffect, { statement: string }> => 'statement' in e)
    .map((e) => e.statement);

describe('statement text kept for replay', () => {
  it('is the whole text for a single statement', () => {
    expect(replayed('  SET search_path TO app, public;  ')).toEqual(['SET search_path TO app, public;']);
  });

  it("is each statement's own text in a batch", () => {
    expect(replayed("SELECT 1; SET application_name = 'a'; RESET work_mem; PREPARE p AS SELECT 2")).toEqual([
      "SET application_name = 'a'",
      'RESET work_mem',
      'PREPARE p AS SELECT 2',
    ]);
  });

  it('survives multibyte characters before the statement (offsets are UTF-8 bytes)', () => {
    expect(replayed("SELECT 'héllo wörld ✓'; SET application_name = 'çà'; SELECT '日本'")).toEqual(["SET application_name = 'çà'"]);
  });

  it('gives each characteristic of SET SESSION CHARACTERISTICS the same statement', () => {
    expect(replayed('SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY')).toEqual([
      'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY',
      'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY',
    ]);
  });
});

describe('StatementText', () => {
  it('slices by bytes, a length of 0 meaning to the end', () => {
    const text = new StatementText('é; SET a = 1');
    expect(text.slice(4, 0)).toBe('SET a = 1');
    expect(text.slice(0, 2)).toBe('é');
    expect(new StatementText('ab; cd').slice(4, undefined)).toBe('cd');
  });
});
