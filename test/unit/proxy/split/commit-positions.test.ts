import { describe, expect, it } from 'vitest';
import { CommitPositions, type PrimaryUnit } from '../../../../src/proxy/split/commit-positions.js';
import type { StatementEffect } from '../../../../src/sql/statement-effects.js';
import { TransactionStatus } from '../../../../src/wire/message-codes.js';

const BEGIN: StatementEffect = { kind: 'begin' };
const COMMIT: StatementEffect = { kind: 'commit', chain: false };
const COMMIT_AND_CHAIN: StatementEffect = { kind: 'commit', chain: true };
const ROLLBACK: StatementEffect = { kind: 'rollback', chain: false };

const unit = (over: Partial<PrimaryUnit>): PrimaryUnit => ({ write: false, ends: true, effects: [], statusBefore: TransactionStatus.Idle, ...over });
const write = (over: Partial<PrimaryUnit> = {}): PrimaryUnit => unit({ write: true, ...over });
const inTransaction = TransactionStatus.InTransaction;

describe('CommitPositions', () => {
  it('reads the position behind an autocommit write, and not behind the reads that follow', () => {
    const c = new CommitPositions();
    expect(c.after(write())).toBe(true);
    expect(c.after(unit({}))).toBe(false);
  });

  it('reads it behind the COMMIT of a transaction that wrote, not behind its writes, whose positions come before the commit record', () => {
    const c = new CommitPositions();
    expect(c.after(unit({ effects: [BEGIN] }))).toBe(false);
    expect(c.after(write({ statusBefore: inTransaction }))).toBe(false);
    expect(c.after(write({ statusBefore: inTransaction }))).toBe(false);
    expect(c.after(unit({ statusBefore: inTransaction }))).toBe(false);
    expect(c.after(unit({ effects: [COMMIT], statusBefore: inTransaction }))).toBe(true);
    expect(c.after(unit({}))).toBe(false);
  });

  it('a transaction that only read owes nothing at its COMMIT', () => {
    const c = new CommitPositions();
    c.after(unit({ effects: [BEGIN] }));
    c.after(unit({ statusBefore: inTransaction }));
    expect(c.after(unit({ effects: [COMMIT], statusBefore: inTransaction }))).toBe(false);
  });

  it('a unit that opens a transaction and writes in it (a driver batch of BEGIN and UPDATE) waits for the COMMIT', () => {
    const c = new CommitPositions();
    expect(c.after(write({ effects: [BEGIN] }))).toBe(false);
    expect(c.after(unit({ effects: [COMMIT], statusBefore: inTransaction }))).toBe(true);
  });

  it('a unit that commits one transaction and opens the next leaves the next one owing', () => {
    const c = new CommitPositions();
    expect(c.after(write({ effects: [COMMIT, BEGIN], statusBefore: inTransaction }))).toBe(false);
    expect(c.after(unit({ effects: [COMMIT], statusBefore: inTransaction }))).toBe(true);
  });

  it('COMMIT AND CHAIN keeps a transaction open: the end of the chain reads the position, covering both', () => {
    const c = new CommitPositions();
    c.after(write({ statusBefore: inTransaction }));
    expect(c.after(unit({ effects: [COMMIT_AND_CHAIN], statusBefore: inTransaction }))).toBe(false);
    expect(c.after(unit({ effects: [COMMIT], statusBefore: inTransaction }))).toBe(true);
  });

  it('a position read while units are in flight (status unknown) may come early: it stays owed until one known to end outside a transaction', () => {
    const c = new CommitPositions();
    expect(c.after(write({ statusBefore: undefined }))).toBe(true);
    // Perhaps a BEGIN was in flight before that write: the COMMIT that follows reads again.
    expect(c.after(unit({ effects: [COMMIT], statusBefore: undefined }))).toBe(true);
    expect(c.after(unit({ statusBefore: TransactionStatus.Idle }))).toBe(true);
    expect(c.after(unit({ statusBefore: TransactionStatus.Idle }))).toBe(false);
  });

  it('a write in a batch left open by a Flush is owed at the Sync that ends it', () => {
    const c = new CommitPositions();
    expect(c.after(write({ ends: false }))).toBe(false);
    expect(c.after(unit({ ends: true, statusBefore: undefined }))).toBe(true);
  });

  it('PREPARE TRANSACTION reads nothing; COMMIT PREPARED, which makes the writes visible, reads the position', () => {
    const c = new CommitPositions();
    c.after(write({ statusBefore: inTransaction }));
    expect(c.after(unit({ effects: [{ kind: 'prepare-transaction' }], statusBefore: inTransaction }))).toBe(false);
    expect(c.after(unit({ effects: [{ kind: 'commit-prepared' }] }))).toBe(true);
  });

  it('a failed transaction owes nothing new at its ROLLBACK beyond what was owed, and reading then is only early, never late', () => {
    const c = new CommitPositions();
    c.after(write({ statusBefore: inTransaction }));
    expect(c.after(write({ statusBefore: TransactionStatus.Failed }))).toBe(false);
    expect(c.after(unit({ effects: [ROLLBACK], statusBefore: TransactionStatus.Failed }))).toBe(true);
    expect(c.after(unit({}))).toBe(false);
  });
});
