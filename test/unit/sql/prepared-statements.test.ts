import { beforeAll, describe, expect, it } from 'vitest';
import { loadSqlParser } from '../../../src/sql/sql-parser.js';
import { classifyStatement } from '../../../src/sql/classify.js';
import { PreparedStatementVerdicts, UNNAMED_STATEMENT } from '../../../src/sql/prepared-statements.js';
import { pg15Catalog } from './catalog-fixture.js';

beforeAll(async () => {
  await loadSqlParser();
});

const catalog = pg15Catalog();
const verdict = (text: string) => classifyStatement(text, catalog);

describe('PreparedStatementVerdicts', () => {
  it('gives a Parse the verdict of its query text', () => {
    const prepared = new PreparedStatementVerdicts();
    prepared.parsed('s1', verdict('SELECT * FROM t WHERE id = $1'));
    prepared.parsed('s2', verdict('UPDATE t SET a = $1'));
    expect(prepared.verdictOf('s1')?.destination).toBe('replica');
    expect(prepared.verdictOf('s2')?.destination).toBe('primary');
    expect(prepared.verdictOf('s3')).toBeUndefined();
    expect(prepared.size).toBe(2);
  });

  it('replaces the unnamed statement on every Parse', () => {
    const prepared = new PreparedStatementVerdicts();
    prepared.parsed(UNNAMED_STATEMENT, verdict('SELECT 1'));
    prepared.parsed(UNNAMED_STATEMENT, verdict('DELETE FROM t'));
    expect(prepared.verdictOf('')?.reason).toBe('write');
    expect(prepared.size).toBe(1);
  });

  it('keeps the first of two Parses of one name, as PostgreSQL does', () => {
    const prepared = new PreparedStatementVerdicts();
    prepared.parsed('s', verdict('SELECT 1'));
    prepared.parsed('s', verdict('DELETE FROM t')); // the server answers "already exists"
    expect(prepared.verdictOf('s')?.destination).toBe('replica');
  });

  it('forgets a statement on Close', () => {
    const prepared = new PreparedStatementVerdicts();
    prepared.parsed('s', verdict('SELECT 1'));
    prepared.parsed('', verdict('SELECT 2'));
    prepared.closed('s');
    prepared.closed('');
    prepared.closed('never-parsed');
    expect(prepared.size).toBe(0);
  });

  it('follows SQL PREPARE, DEALLOCATE and DISCARD ALL from executed verdicts', () => {
    const prepared = new PreparedStatementVerdicts();
    prepared.apply(verdict('PREPARE a AS SELECT 1; PREPARE b AS INSERT INTO t VALUES (1)').effects);
    expect(prepared.verdictOf('a')?.destination).toBe('replica');
    expect(prepared.verdictOf('b')?.destination).toBe('primary');

    prepared.apply(verdict('DEALLOCATE a').effects);
    expect(prepared.verdictOf('a')).toBeUndefined();

    prepared.parsed('proto', verdict('SELECT 3'));
    prepared.apply(verdict('DEALLOCATE ALL').effects);
    expect(prepared.size).toBe(0); // protocol-level statements share the namespace

    prepared.apply(verdict('PREPARE c AS SELECT 1').effects);
    prepared.apply(verdict('DISCARD ALL').effects);
    expect(prepared.size).toBe(0);

    prepared.apply(verdict('PREPARE d AS SELECT 1').effects);
    prepared.apply(verdict('DISCARD PLANS').effects);
    expect(prepared.size).toBe(1); // DISCARD PLANS keeps the statements
  });

  it('serves as the lookup for EXECUTE', () => {
    const prepared = new PreparedStatementVerdicts();
    prepared.apply(verdict('PREPARE lock_it AS SELECT pg_advisory_lock($1)').effects);
    expect(classifyStatement('EXECUTE lock_it(7)', catalog, prepared.lookup)).toMatchObject({
      destination: 'primary',
      reason: 'stateful-function',
      effects: [
        { kind: 'execute', name: 'lock_it' },
        { kind: 'pin', pin: 'advisory-lock', scope: 'session' },
      ],
    });
  });
});
