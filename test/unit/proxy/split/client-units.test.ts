import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import { ClientUnits, mayStartCopyIn, type ClientUnit } from '../../../../src/proxy/split/client-units.js';
import { framesOf } from '../../../support/test-buffers.js';

/** Feeds the bytes a driver would write and returns the units they complete. */
function unitsOf(...messages: Buffer[]): ClientUnit[] {
  const units = new ClientUnits();
  return framesOf(Buffer.concat(messages)).flatMap((f) => units.push(f));
}

describe('ClientUnits', () => {
  it('a simple query is a unit of its own, with its text (a multi-statement string stays one)', () => {
    const [unit, ...rest] = unitsOf(serialize.query('SELECT 1; UPDATE t SET v = 2'));
    expect(rest).toEqual([]);
    expect(unit).toMatchObject({ kind: 'query', text: 'SELECT 1; UPDATE t SET v = 2' });
  });

  it('an extended batch is one unit up to its Sync, with what it parses, binds and closes', () => {
    const units = unitsOf(
      serialize.parse({ name: 's1', text: 'SELECT $1::int' }),
      serialize.bind({ portal: '', statement: 's1', values: ['1'] }),
      serialize.describe({ type: 'P', name: '' }),
      serialize.execute({ portal: '' }),
      serialize.bind({ portal: '', statement: 'old', values: [] }),
      serialize.execute({ portal: '' }),
      serialize.close({ type: 'S', name: 'old' }),
      serialize.close({ type: 'P', name: 'portal' }),
      serialize.sync(),
    );
    expect(units).toHaveLength(1);
    const unit = units[0]!;
    if (unit.kind !== 'extended') throw new Error('not extended');
    expect(unit.frames).toHaveLength(9);
    expect(unit.parses).toEqual([{ statement: 's1', text: 'SELECT $1::int' }]);
    expect(unit.boundStatements).toEqual(['s1', 'old']);
    expect(unit.closedStatements).toEqual(['old']);
    expect(unit.end).toBe('sync');
  });

  it('nothing is decided before the Sync; a Flush ends a unit early (the client waits for those answers)', () => {
    const units = new ClientUnits();
    const parseAndDescribe = framesOf(Buffer.concat([serialize.parse({ name: 'q', text: 'SELECT 1' }), serialize.describe({ type: 'S', name: 'q' })]));
    expect(parseAndDescribe.flatMap((f) => units.push(f))).toEqual([]);
    expect(units.holding).toBe(true);
    const flushed = framesOf(serialize.flush()).flatMap((f) => units.push(f));
    expect(flushed).toMatchObject([{ kind: 'extended', end: 'flush', parses: [{ statement: 'q', text: 'SELECT 1' }] }]);
    expect(units.holding).toBe(false);
    const rest = framesOf(Buffer.concat([serialize.bind({ statement: 'q' }), serialize.execute({}), serialize.sync()])).flatMap((f) => units.push(f));
    expect(rest).toMatchObject([{ kind: 'extended', end: 'sync', parses: [], boundStatements: ['q'] }]);
  });

  it('a simple query after unsynced extended messages closes them first, in order', () => {
    const units = unitsOf(serialize.parse({ text: 'SELECT 1' }), serialize.query('SELECT 2'));
    expect(units.map((u) => u.kind)).toEqual(['extended', 'query']);
    expect(units[0]).toMatchObject({ end: 'overflow' });
  });

  it('a batch past 1 MiB without a Sync is cut there so the router never buffers without bound', () => {
    const big = 'x'.repeat(300_000);
    const units = unitsOf(...Array.from({ length: 4 }, () => serialize.parse({ text: `SELECT '${big}'` })));
    expect(units).toHaveLength(1);
    expect(units[0]).toMatchObject({ kind: 'extended', end: 'overflow' });
  });

  it('FunctionCall and Terminate are units of their own', () => {
    const fn = Buffer.from([0x46, 0, 0, 0, 4]);
    expect(unitsOf(fn, serialize.end()).map((u) => u.kind)).toEqual(['function-call', 'terminate']);
  });
});

describe('mayStartCopyIn', () => {
  const one = (...messages: Buffer[]): ClientUnit => unitsOf(...messages)[0]!;

  it('a simple query with COPY anywhere in its text, in any case, may start one; others may not', () => {
    expect(mayStartCopyIn(one(serialize.query('COPY t FROM STDIN')), false)).toBe(true);
    expect(mayStartCopyIn(one(serialize.query('INSERT INTO t VALUES (1); copy t from stdin')), false)).toBe(true);
    expect(mayStartCopyIn(one(serialize.query('UPDATE t SET v = 1')), false)).toBe(false);
  });

  it('an extended batch that parses a COPY, or binds a statement prepared as one, may start one', () => {
    const parsed = one(serialize.parse({ name: '', text: 'COPY t FROM STDIN' }), serialize.bind({}), serialize.execute({}), serialize.sync());
    expect(mayStartCopyIn(parsed, false)).toBe(true);
    const bound = one(serialize.bind({ statement: 'load' }), serialize.execute({}), serialize.sync());
    expect(mayStartCopyIn(bound, false)).toBe(false);
    expect(mayStartCopyIn(bound, true)).toBe(true);
  });

  it('a function call or a goodbye never does', () => {
    expect(mayStartCopyIn(one(Buffer.from([0x46, 0, 0, 0, 4])), false)).toBe(false);
    expect(mayStartCopyIn(one(serialize.end()), false)).toBe(false);
  });
});
