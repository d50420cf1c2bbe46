import { beforeAll, describe, expect, it } from 'vitest';
import { SessionState, freshLinkState } from '../../../../src/proxy/split/session-state.js';
import { classifyStatement } from '../../../../src/sql/classify.js';
import { loadSqlParser } from '../../../../src/sql/sql-parser.js';
import { pg15Catalog } from '../../sql/catalog-fixture.js';

const catalog = pg15Catalog();
const run = (state: SessionState, text: string): void => state.applied(classifyStatement(text, catalog).effects);

describe('SessionState', () => {
  beforeAll(() => loadSqlParser());

  it('replays the last SET of each parameter, not every SET the session made', () => {
    const s = new SessionState();
    for (let i = 0; i < 1000; i++) run(s, `SET application_name = 'checkout-${i}'`);
    run(s, 'SET statement_timeout = 5000');
    expect(s.replayFor(freshLinkState)).toEqual(["SET application_name = 'checkout-999'", 'SET statement_timeout = 5000']);
    expect(s.pinned).toBeUndefined();
  });

  it('a link that holds a setting the session reset gets a RESET; one up to date gets nothing', () => {
    const s = new SessionState();
    run(s, 'SET work_mem = 65536');
    const link = s.snapshot();
    expect(s.replayFor(link)).toEqual([]);
    run(s, 'RESET work_mem');
    expect(s.replayFor(link)).toEqual(['RESET "work_mem"']);
    run(s, 'SET work_mem = 1024');
    run(s, 'RESET ALL');
    expect(s.replayFor(link)).toEqual(['RESET "work_mem"']);
  });

  it('SET LOCAL is not replayed: it ends with its transaction', () => {
    const s = new SessionState();
    run(s, 'SET LOCAL statement_timeout = 5');
    expect(s.replayFor(freshLinkState)).toEqual([]);
  });

  it('SQL PREPAREs replay after the settings; a deallocated one is deallocated where it was', () => {
    const s = new SessionState();
    run(s, 'PREPARE p AS SELECT 1');
    run(s, 'SET search_path = app, public');
    expect(s.replayFor(freshLinkState)).toEqual(['SET search_path = app, public', 'PREPARE p AS SELECT 1']);
    const link = s.snapshot();
    run(s, 'DEALLOCATE p');
    expect(s.replayFor(link)).toEqual(['DEALLOCATE "p"']);
  });

  it('a search_path change after statements were prepared pins the session (their names would resolve elsewhere)', () => {
    const s = new SessionState();
    s.parsed('s1', Buffer.from('raw'));
    run(s, 'SET search_path = other');
    expect(s.pinned).toBe('search-path-after-prepare');
  });

  it('DISCARD ALL forgets settings, prepared statements and the read-only default', () => {
    const s = new SessionState();
    run(s, 'SET default_transaction_read_only = on');
    s.parsed('s1', Buffer.from('raw'));
    expect(s.readOnlyByDefault).toBe(true);
    const link = s.snapshot();
    run(s, 'DISCARD ALL');
    expect(s.readOnlyByDefault).toBe(false);
    expect(s.parseOf('s1')).toBeUndefined();
    expect(s.staleOn(new Set(['s1']))).toEqual(['s1']);
    expect(s.replayFor(link)).toEqual(['RESET "default_transaction_read_only"']);
  });

  it('pins on state no other link can share', () => {
    for (const text of ['CREATE TEMP TABLE x (a int)', 'LISTEN ch', 'SELECT pg_advisory_lock(1)', 'SET ROLE other', "SELECT set_config('a.b', '1', false)"]) {
      const s = new SessionState();
      run(s, text);
      expect(s.pinned, text).toBeDefined();
    }
  });

  it('keeps the first Parse of a name (PostgreSQL refuses a second) and forgets it on Close', () => {
    const s = new SessionState();
    s.parsed('s', Buffer.from('first'));
    s.parsed('s', Buffer.from('second'));
    expect(s.parseOf('s')?.toString()).toBe('first');
    s.closed('s');
    expect(s.parseOf('s')).toBeUndefined();
  });
});
