import { describe, expect, it } from 'vitest';
import { firstKeyword, primaryByFirstKeyword, skipBlanks } from '../../../src/sql/first-keyword.js';

describe('firstKeyword', () => {
  it('reads the first word, upper case', () => {
    expect(firstKeyword('insert into t values (1)')).toBe('INSERT');
    expect(firstKeyword('Select 1')).toBe('SELECT');
    expect(firstKeyword('VACUUM')).toBe('VACUUM');
    expect(firstKeyword('DELETE;')).toBe('DELETE');
    expect(firstKeyword('UPDATE(')).toBe('UPDATE');
  });

  it('skips whitespace of every kind PostgreSQL skips', () => {
    expect(firstKeyword(' \t\n\r\f\v DELETE FROM t')).toBe('DELETE');
  });

  it('skips line comments, to either line end', () => {
    expect(firstKeyword('-- a comment\nUPDATE t SET a = 1')).toBe('UPDATE');
    expect(firstKeyword('-- a comment\r\nUPDATE t SET a = 1')).toBe('UPDATE');
    expect(firstKeyword('--\n--\nDROP TABLE t')).toBe('DROP');
    expect(firstKeyword('-- only a comment')).toBeUndefined();
  });

  it('skips block comments, nested ones included', () => {
    expect(firstKeyword('/* INSERT */ SELECT 1')).toBe('SELECT');
    expect(firstKeyword('/* a /* b */ still inside */ TRUNCATE t')).toBe('TRUNCATE');
    expect(firstKeyword('/**/INSERT')).toBe('INSERT');
    expect(firstKeyword('/* a */ -- b\n /* c */ CALL p()')).toBe('CALL');
  });

  it('finds nothing behind an unterminated comment', () => {
    expect(firstKeyword('/* never closed INSERT INTO t')).toBeUndefined();
    expect(firstKeyword('/* a /* b */ INSERT INTO t')).toBeUndefined();
    expect(skipBlanks('/* open')).toBe(-1);
  });

  it('does not take an identifier or a symbol for a keyword', () => {
    expect(firstKeyword('(SELECT 1)')).toBeUndefined();
    expect(firstKeyword('"INSERT"')).toBeUndefined();
    expect(firstKeyword('insert2 x')).toBeUndefined();
    expect(firstKeyword('do$$ $$')).toBeUndefined();
    expect(firstKeyword('inserté')).toBeUndefined();
    expect(firstKeyword('')).toBeUndefined();
    expect(firstKeyword('   ')).toBeUndefined();
  });

  it('treats a lone dash or slash as text, not a comment', () => {
    expect(firstKeyword('- 1')).toBeUndefined();
    expect(firstKeyword('/ 1')).toBeUndefined();
  });
});

describe('primaryByFirstKeyword', () => {
  it('sends single writes to the primary without parsing', () => {
    expect(primaryByFirstKeyword('INSERT INTO t VALUES (1)')).toMatchObject({ destination: 'primary', reason: 'write', detail: 'insert', effects: [] });
    expect(primaryByFirstKeyword('vacuum t')).toMatchObject({ destination: 'primary', reason: 'utility', detail: 'vacuum' });
    expect(primaryByFirstKeyword('CALL p()')).toMatchObject({ reason: 'procedural', detail: 'call' });
    expect(primaryByFirstKeyword('DO $$ BEGIN END $$')).toMatchObject({ reason: 'procedural', detail: 'do' });
    expect(primaryByFirstKeyword('LOCK t')).toMatchObject({ reason: 'locking', detail: 'lock-table' });
    expect(primaryByFirstKeyword('UPDATE t SET a = 1;\n ; ')).toMatchObject({ reason: 'write', detail: 'update' });
  });

  it('never answers replica, and leaves reads and session statements to the parser', () => {
    for (const text of [
      'SELECT 1',
      'WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x',
      'VALUES (1)',
      'TABLE t',
      'SHOW search_path',
      'EXPLAIN ANALYZE DELETE FROM t',
      'COPY t TO STDOUT',
      'COPY t FROM STDIN',
      'SET search_path = app',
      'BEGIN',
      'CREATE TEMP TABLE t (a int)',
      'CREATE TABLE t (a int)',
      'PREPARE p AS INSERT INTO t VALUES (1)',
      'DECLARE c CURSOR WITH HOLD FOR SELECT 1',
      'LISTEN c',
      "LOAD 'x'",
      '(SELECT 1)',
    ]) {
      expect(primaryByFirstKeyword(text), text).toBeUndefined();
    }
  });

  it('leaves a multi-statement text to the parser: later statements may have effects', () => {
    expect(primaryByFirstKeyword('INSERT INTO t VALUES (1); SET search_path = app')).toBeUndefined();
    expect(primaryByFirstKeyword('DELETE FROM t; LISTEN c')).toBeUndefined();
    // A ; in a string is only a lost shortcut.
    expect(primaryByFirstKeyword("INSERT INTO t VALUES ('a;b')")).toBeUndefined();
  });

  it('leaves a text naming a pinning function to the parser', () => {
    expect(primaryByFirstKeyword('INSERT INTO t SELECT pg_advisory_lock(1)')).toBeUndefined();
    expect(primaryByFirstKeyword('UPDATE t SET a = PG_TRY_ADVISORY_LOCK(1)')).toBeUndefined();
    expect(primaryByFirstKeyword("UPDATE t SET a = set_config('a', 'b', false)")).toBeUndefined();
    expect(primaryByFirstKeyword('INSERT INTO t SELECT setseed(0.1)')).toBeUndefined();
  });

  it('decides a huge single INSERT in well under a parse', () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `(${i}, 'row ${i}', now())`).join(', ');
    const text = `INSERT INTO big (id, note, at) VALUES ${rows}`;
    expect(text.length).toBeGreaterThan(500_000);
    const started = performance.now();
    expect(primaryByFirstKeyword(text)).toMatchObject({ reason: 'write', detail: 'insert' });
    expect(performance.now() - started).toBeLessThan(50);
  });
});
