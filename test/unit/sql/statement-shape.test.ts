import { describe, expect, it } from 'vitest';
import { statementShape } from '../../../src/sql/statement-shape.js';

describe('statementShape', () => {
  it.each([
    ["SELECT * FROM t WHERE id = 42 AND name = 'o''brien'", 'SELECT * FROM t WHERE id = ?n AND name = ?s'],
    ['SELECT 1.5e-3, .5, 0x1F, 1_000', 'SELECT ?n, ?n, ?n, ?n'],
    ['SELECT t1.c2 FROM t1', 'SELECT t1.c2 FROM t1'],
    ["SELECT E'it\\'s', e'\\\\'", 'SELECT E?s, e?s'],
    ['SELECT $$a ; DELETE$$, $tag$ x $$ y $tag$', 'SELECT ?s, ?s'],
    ['SELECT $1, $2::int FROM t WHERE a = $1', 'SELECT $1, $2::int FROM t WHERE a = $1'],
    ['SELECT "weird ""name"" 1" FROM "t 2"', 'SELECT "weird ""name"" 1" FROM "t 2"'],
    ['SELECT 1 /* a /* nested */ DELETE */ -- trailing 2\n', 'SELECT ?n    \n'],
    ['SELECT a$1 FROM t', 'SELECT a$1 FROM t'],
  ])('%s', (text, shape) => {
    expect(statementShape(text)).toBe(shape);
  });

  it('has no shape for what it cannot scan to the end', () => {
    for (const text of ["SELECT 'open", 'SELECT "open', 'SELECT $$ open', 'SELECT /* open']) expect(statementShape(text), text).toBeUndefined();
  });

  it('keeps names that look like numbers or literals apart from them', () => {
    expect(statementShape('SELECT x FROM t WHERE a = 1')).not.toBe(statementShape('SELECT x FROM t WHERE a = b'));
    expect(statementShape("COPY t TO '/tmp/f'")).not.toBe(statementShape('COPY t TO STDOUT'));
  });
});
