import { serialize } from 'pg-protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClientUnits, type ClientUnit } from '../../../../src/proxy/split/client-units.js';
import { routeUnit, type UnitRoutingContext } from '../../../../src/proxy/split/unit-routing.js';
import { classifyStatement } from '../../../../src/sql/classify.js';
import { PreparedStatementVerdicts } from '../../../../src/sql/prepared-statements.js';
import { loadSqlParser } from '../../../../src/sql/sql-parser.js';
import { framesOf } from '../../../support/test-buffers.js';
import { pg15Catalog } from '../../sql/catalog-fixture.js';

const catalog = pg15Catalog();

function unitOf(...messages: Buffer[]): ClientUnit {
  const units = new ClientUnits();
  const out = framesOf(Buffer.concat(messages)).flatMap((f) => units.push(f));
  if (out.length !== 1) throw new Error(`expected one unit, got ${out.length}`);
  return out[0]!;
}

function context(over: Partial<UnitRoutingContext> = {}): UnitRoutingContext {
  const prepared = new PreparedStatementVerdicts();
  return {
    classify: (text) => classifyStatement(text, catalog, prepared.lookup),
    prepared,
    transactionOn: undefined,
    openUnitOn: undefined,
    pinned: undefined,
    replicaReady: () => true,
    readOnlyByDefault: false,
    ...over,
  };
}

const q = (text: string): ClientUnit => unitOf(serialize.query(text));

describe('routeUnit', () => {
  beforeAll(() => loadSqlParser());

  it.each([
    ['SELECT * FROM t WHERE id = 1', 'replica', 'read'],
    ['UPDATE t SET v = 1', 'primary', 'write'],
    ['SELECT * FROM t FOR UPDATE', 'primary', 'locking'],
    ["SELECT nextval('s')", 'primary', 'stateful-function'],
    ['SELECT 1; DELETE FROM t', 'primary', 'write'],
    ['SELEC oops', 'primary', 'unparsed'],
    ['BEGIN', 'primary', 'transaction-control'],
    ['SET application_name = x', 'primary', 'session-state'],
  ] as const)('%s → %s (%s)', (text, link, reason) => {
    expect(routeUnit(q(text), context())).toMatchObject({ link, reason });
  });

  it('BEGIN READ ONLY goes to the replica; a plain BEGIN does too under default_transaction_read_only', () => {
    expect(routeUnit(q('BEGIN READ ONLY'), context())).toMatchObject({ link: 'replica', reason: 'read' });
    expect(routeUnit(q('BEGIN'), context({ readOnlyByDefault: true }))).toMatchObject({ link: 'replica', reason: 'read' });
    expect(routeUnit(q('BEGIN ISOLATION LEVEL SERIALIZABLE'), context({ readOnlyByDefault: true }))).toMatchObject({ link: 'primary' });
  });

  it('an open transaction keeps every unit on its link, writes included', () => {
    expect(routeUnit(q('SELECT 1'), context({ transactionOn: 'primary' }))).toMatchObject({ link: 'primary', reason: 'transaction' });
    expect(routeUnit(q('UPDATE t SET v = 1'), context({ transactionOn: 'replica' }))).toMatchObject({ link: 'replica', reason: 'transaction' });
  });

  it('a batch left open by Flush pulls the rest of it to the same link', () => {
    expect(routeUnit(q('UPDATE t SET v = 1'), context({ openUnitOn: 'replica' }))).toMatchObject({ link: 'replica', reason: 'open-unit' });
  });

  it('a pin, a replica not ready or none keep reads on the primary and say why', () => {
    expect(routeUnit(q('SELECT 1'), context({ pinned: 'temp-object' }))).toMatchObject({ link: 'primary', reason: 'pinned' });
    expect(routeUnit(q('SELECT 1'), context({ replicaReady: () => ({ why: 'consistency' }) }))).toMatchObject({ link: 'primary', reason: 'consistency' });
    expect(routeUnit(q('SELECT 1'), context({ replicaReady: () => ({ why: 'no-replica' }) }))).toMatchObject({ link: 'primary', reason: 'no-replica' });
  });

  it('an extended batch goes to the replica only when every statement in it is safe there', () => {
    const read = unitOf(
      serialize.parse({ name: 'r', text: 'SELECT v FROM t WHERE id = $1' }),
      serialize.bind({ statement: 'r', values: ['1'] }),
      serialize.execute({}),
      serialize.sync(),
    );
    expect(routeUnit(read, context())).toMatchObject({ link: 'replica', reason: 'read' });
    const mixed = unitOf(
      serialize.parse({ text: 'SELECT 1' }),
      serialize.bind({}),
      serialize.execute({}),
      serialize.parse({ text: 'INSERT INTO t VALUES (1)' }),
      serialize.bind({}),
      serialize.execute({}),
      serialize.sync(),
    );
    expect(routeUnit(mixed, context())).toMatchObject({ link: 'primary', reason: 'write' });
  });

  it('a Bind of a statement prepared earlier takes its verdict; one never seen goes to the primary', () => {
    const ctx = context();
    ctx.prepared.parsed('w', classifyStatement('DELETE FROM t', catalog));
    ctx.prepared.parsed('r', classifyStatement('SELECT 1', catalog));
    const bindOf = (name: string): ClientUnit => unitOf(serialize.bind({ statement: name }), serialize.execute({}), serialize.sync());
    expect(routeUnit(bindOf('w'), ctx)).toMatchObject({ link: 'primary', reason: 'write' });
    expect(routeUnit(bindOf('r'), ctx)).toMatchObject({ link: 'replica', reason: 'read' });
    expect(routeUnit(bindOf('never'), ctx)).toMatchObject({ link: 'primary', reason: 'unknown-prepared' });
  });

  it('asks whether the replica may serve only of a unit it could take (a write or a transaction never asks)', () => {
    let asked = 0;
    const ctx = (over: Partial<UnitRoutingContext> = {}): UnitRoutingContext => context({ replicaReady: () => (asked++, true), ...over });
    routeUnit(q('UPDATE t SET v = 1'), ctx());
    routeUnit(q('SELECT 1'), ctx({ transactionOn: 'primary' }));
    expect(asked).toBe(0);
    expect(routeUnit(q('SELECT 1'), ctx())).toMatchObject({ link: 'replica', reason: 'read' });
    expect(asked).toBe(1);
  });

  it('FunctionCall goes to the primary (it may call anything); an empty query stays where the session is', () => {
    expect(routeUnit(unitOf(Buffer.from([0x46, 0, 0, 0, 4])), context())).toMatchObject({ link: 'primary', reason: 'function-call' });
    expect(routeUnit(q(''), context())).toMatchObject({ link: 'primary' });
  });
});
