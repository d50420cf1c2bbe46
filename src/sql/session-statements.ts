/**
 * DISCARD, DEALLOCATE, LISTEN, UNLISTEN, LOAD, FETCH, MOVE, CLOSE: session state without a
 * query of its own. (SET lives in setting-statements.ts; PREPARE, EXECUTE and DECLARE, which
 * carry a query, in analyse-statement.ts.)
 */
import type { ClosePortalStmt, DeallocateStmt, DiscardStmt, FetchStmt, ListenStmt, UnlistenStmt } from './parse-tree.js';
import type { SessionEffect } from './statement-effects.js';
import { onAnyLink, onPrimary, type StatementAnalysis } from './statement-analysis.js';

const DISCARD_TARGETS: Readonly<Record<string, 'all' | 'plans' | 'sequences' | 'temp'>> = {
  DISCARD_ALL: 'all',
  DISCARD_PLANS: 'plans',
  DISCARD_SEQUENCES: 'sequences',
  DISCARD_TEMP: 'temp',
};

export function discardAnalysis(stmt: DiscardStmt): StatementAnalysis {
  const target = DISCARD_TARGETS[stmt.target ?? ''];
  if (target === undefined) return onPrimary('session-state', 'discard');
  return onAnyLink('session-state', `discard-${target}`, [{ kind: 'discard', target }]);
}

export function deallocateAnalysis(stmt: DeallocateStmt): StatementAnalysis {
  const effect: SessionEffect = stmt.isall === true || stmt.name === undefined ? { kind: 'deallocate' } : { kind: 'deallocate', name: stmt.name };
  return onAnyLink('session-state', 'deallocate', [effect]);
}

/** LISTEN is refused on a standby, and notifications reach only the link that listens. */
export function listenAnalysis(stmt: ListenStmt): StatementAnalysis {
  return onPrimary('session-state', 'listen', [
    { kind: 'listen', channel: stmt.conditionname ?? '' },
    { kind: 'pin', pin: 'listen', scope: 'session' },
  ]);
}

export function unlistenAnalysis(stmt: UnlistenStmt): StatementAnalysis {
  const effect: SessionEffect = stmt.conditionname === undefined ? { kind: 'unlisten' } : { kind: 'unlisten', channel: stmt.conditionname };
  return onAnyLink('session-state', 'unlisten', [effect]);
}

export function loadAnalysis(): StatementAnalysis {
  return onPrimary('session-state', 'load', [{ kind: 'pin', pin: 'load', scope: 'session' }]);
}

/**
 * A cursor lives where it was declared: inside a transaction that is the transaction's link,
 * outside one only a WITH HOLD cursor exists, and that pinned the session to the primary.
 */
export function fetchAnalysis(stmt: FetchStmt): StatementAnalysis {
  return onAnyLink('session-state', stmt.ismove === true ? 'move' : 'fetch');
}

export function closeAnalysis(stmt: ClosePortalStmt): StatementAnalysis {
  const effect: SessionEffect = stmt.portalname === undefined ? { kind: 'close-cursor' } : { kind: 'close-cursor', name: stmt.portalname };
  return onAnyLink('session-state', 'close', [effect]);
}
