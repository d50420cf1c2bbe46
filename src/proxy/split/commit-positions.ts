import type { StatementEffect } from '../../sql/statement-effects.js';
import { TransactionStatus } from '../../wire/message-codes.js';

/** What a unit sent to the primary link says about when its writes become visible. */
export interface PrimaryUnit {
  /** It writes, or may. */
  write: boolean;
  /** It ends with a Sync or is a simple query: a position read right behind it runs after it. */
  ends: boolean;
  /** Its statements' effects in order (BEGIN, COMMIT, ROLLBACK among them). */
  effects: readonly StatementEffect[];
  /** The link's transaction status before it, when known (nothing of the client's in flight there); undefined otherwise. */
  statusBefore: TransactionStatus | undefined;
}

/**
 * When a split session reads the primary's WAL position for its read-your-writes token (pure):
 * behind the unit that makes its writes visible. A position read inside a transaction comes
 * before the transaction's commit record, and a replica that has replayed that far need not
 * have replayed the commit: a read after the COMMIT would not see the transaction's writes.
 * So a write inside a transaction only says that a position is owed, and the unit that ends
 * the transaction (COMMIT, END, a batch's implicit commit at its Sync) reads it.
 */
export class CommitPositions {
  /** A write was sent that no position read since is known to cover. */
  private owed = false;

  /** Whether to read the primary's position right behind this unit. */
  after(unit: PrimaryUnit): boolean {
    // COMMIT PREPARED makes visible what another unit wrote, perhaps long ago.
    if (unit.write || unit.effects.some((e) => e.kind === 'commit-prepared')) this.owed = true;
    if (!this.owed || !unit.ends || leavesTransactionOpen(unit)) return false;
    // Known to end outside any transaction: the position read next covers every write sent before it.
    if (unit.statusBefore !== undefined) this.owed = false;
    return true;
  }
}

/**
 * Whether the unit leaves its writes uncommitted, as far as the router can tell. When the status
 * before it is not known, it counts as outside one: a position read then may come too early,
 * but the owed position stays owed until a unit known to end outside a transaction.
 */
function leavesTransactionOpen(unit: PrimaryUnit): boolean {
  let open = unit.statusBefore !== undefined && unit.statusBefore !== TransactionStatus.Idle;
  for (const effect of unit.effects) {
    if (effect.kind === 'begin') open = true;
    // AND CHAIN starts the next transaction at once: its own end reads the position, covering this commit too.
    else if (effect.kind === 'commit' || effect.kind === 'rollback') open = effect.chain;
    // PREPARE TRANSACTION ends the block, but its writes stay invisible until COMMIT PREPARED, which owes its own position.
    else if (effect.kind === 'prepare-transaction') open = true;
  }
  return open;
}
