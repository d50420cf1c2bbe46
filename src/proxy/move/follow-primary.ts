import { holdTimeoutMs } from '../../routing/hold-timeout.js';
import type { BackendLink } from '../backend/backend-link.js';
import { refusals } from '../refusal.js';
import type { SessionCore } from '../session-core.js';
import type { SplitRelay } from '../split/split-relay.js';
import { moveReasonWords } from './move-reasons.js';
import { SessionMover } from './session-mover.js';

/** The mover of a session on a move_sessions listener: where it goes, how long it may wait, what it says when it cannot. */
export function createMover(session: SessionCore, split: SplitRelay): SessionMover {
  const { listener, services } = session;
  const config = listener.config;
  return new SessionMover({
    state: () => services.feedFor(config.cluster)?.current(),
    now: () => services.clock.now(),
    timers: session.timers,
    timeoutMs: () => holdTimeoutMs(config.moveTimeoutMs === 'auto' ? config.holdTimeoutMs : config.moveTimeoutMs, services.feedFor(config.cluster)?.current()?.config),
    openLink: (member) => session.links.open(member),
    relay: split,
    moved: (link, from, waitedMs) => movedTo(session, link, from, waitedMs),
    gaveUp: (from, why, detail) => {
      services.events.sessionNotMoved({ listener: config.name, member: from, reason: why });
      session.ending = 'backend-closed';
      session.refuse(refusals.moveTimeout(config.name, from, detail));
    },
    log: session.log,
  });
}

/** The primary link ended between transactions: a session that may move waits for the next primary. */
export function primaryGone(session: SessionCore, why: string): boolean {
  const from = session.member?.name ?? '?';
  if (session.mover === undefined || session.isOver()) {
    const reason = session.mover === undefined ? notMovableReason(session) : 'session-over';
    session.services.events.sessionNotMoved({ listener: session.listener.config.name, member: from, reason });
    return false;
  }
  session.backend = undefined;
  session.releaseMember();
  session.mover.begin(from, why);
  return true;
}

/**
 * Fencing says the session's member is no longer eligible: a session that can move leaves it
 * between transactions and waits for the next primary; any other is closed here (true), or by
 * the caller (false: the session is not relaying, or its listener does not move sessions).
 */
export function followPrimary(session: SessionCore, reason: string): boolean {
  const { split, mover, listener } = session;
  if (!listener.config.moveSessions || session.phase !== 'relaying' || session.isOver()) return false;
  const blocker = mover === undefined ? 'no-secret' : split?.moveBlocker();
  const from = session.member?.name ?? '?';
  if (blocker !== undefined || split === undefined || mover === undefined || !split.leavePrimary()) {
    const code = blocker ?? 'query-running';
    session.services.events.sessionNotMoved({ listener: listener.config.name, member: from, reason: code });
    // Said in the 57P01 the fencing sends: why it could not move.
    session.ending = 'fenced';
    if (session.relay !== undefined && !session.relay.idle.isIdle()) session.cancelRunningQuery();
    session.closeWithError(refusals.notMoved(listener.config.name, from, reason, moveReasonWords(code)));
    return true;
  }
  session.backend = undefined;
  session.releaseMember();
  mover.begin(from, reason);
  return true;
}

/** The session's primary link is the new one: its member, slot and cancel key follow. */
function movedTo(session: SessionCore, link: BackendLink, from: string, waitedMs: number): void {
  session.listener.adopt(link.member.name);
  session.occupy(link.member);
  session.cancelKeys.member = link.cancelKey;
  session.backend = link.socket;
  session.services.events.sessionMoved({ listener: session.listener.config.name, from, to: link.member.name, waitedMs });
  session.log.info({ from, to: link.member.name, waitedMs }, 'session moved to the new primary');
}

/**
 * The primary link ended under the client's work or state that cannot move (a crash mid-query):
 * counted as not moved, with why, as a session between transactions is in primaryGone.
 */
export function primaryLostUnderWork(session: SessionCore, why: string, blocker: string | undefined): void {
  // A client's Terminate is work in flight too, and the member's close its answer: not counted.
  if (blocker !== undefined && !session.isOver() && session.relay?.clientSaidGoodbye !== true) {
    const reason = session.listener.config.moveSessions ? blocker : 'move-off';
    session.services.events.sessionNotMoved({ listener: session.listener.config.name, member: session.member?.name ?? '?', reason });
  }
  session.statementRelayEnded(why);
}

/**
 * A session on a move_sessions listener that could never move (it relays bytes on one member,
 * e.g. no secret was learned at its login) lost its primary: counted as not moved, with why,
 * as split and movable sessions are. Only while relaying, and not after a fencing (counted there).
 */
export function unmovableLost(session: SessionCore): void {
  if (!session.listener.config.moveSessions || session.split !== undefined || session.phase !== 'relaying' || session.ending === 'fenced') return;
  session.services.events.sessionNotMoved({ listener: session.listener.config.name, member: session.member?.name ?? '?', reason: notMovableReason(session) });
}

/** Why a session on a move_sessions listener is not able to move at all. */
function notMovableReason(session: SessionCore): string {
  if (!session.listener.config.moveSessions) return 'move-off';
  return session.links.possible ? 'session-over' : 'no-secret';
}
