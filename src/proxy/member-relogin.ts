import type { RouteDecision } from '../routing/route-request.js';
import type { Member } from '../topology/cluster-state.js';
import { TransactionStatus } from '../wire/message-codes.js';
import { parameterStatus, readyForQuery } from '../wire/serializer.js';
import { HandshakeError } from './backend/auth/backend-handshake.js';
import type { BackendLink } from './backend/backend-link.js';
import { BackendConnectError } from './backend/connector.js';
import { NOT_NOW_CODES, NO_ROOM } from './backend/startup-watch.js';
import { ByteRelay } from './byte-relay.js';
import type { AttemptResult } from './placement.js';
import { refusals, type Refusal } from './refusal.js';
import type { SessionCore } from './session-core.js';
import { doubtPrimary } from './session-placement.js';
import { startRelaying } from './session-relay.js';

/**
 * The client finished its login on a member that turned out to be in hot standby (a primary
 * Patroni demoted while the router's view still named it): it has seen AuthenticationOk and
 * nothing after it. Later attempts log in for it with the secret that login taught.
 */
export interface ClientLoggedIn {
  /** Client bytes read past its login, for the relay. */
  clientRest: Buffer;
  /** The member the login passed on, and when: for the move event. */
  from: string;
  since: number;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * One placement attempt for a session whose client already logged in: a link to `member` as
 * its user; if the member is writable, the client gets that member's ParameterStatus, the
 * router's cancel key and ReadyForQuery, as if its login had ended there, and the relay starts.
 * A member still in hot standby, or not up, gives way: placement holds and tries again within
 * hold_timeout. A member that refuses the login outright is the client's answer.
 */
export async function reloginOn(session: SessionCore, member: Member, decision: RouteDecision, loggedIn: ClientLoggedIn): Promise<AttemptResult> {
  session.occupy(member);
  session.phase = 'connecting';
  let link: BackendLink;
  try {
    link = await session.links.open(member);
  } catch (err) {
    if (session.isOver()) return { kind: 'over' };
    const refused = finalRefusal(session.listener.config.name, err);
    if (refused !== undefined) {
      session.refuse(refused);
      return { kind: 'over' };
    }
    session.releaseBackend();
    const full = err instanceof HandshakeError && err.sqlstate === NO_ROOM ? { sqlstate: err.sqlstate, message: err.message } : undefined;
    return full === undefined ? { kind: 'gave-way', why: errorText(err) } : { kind: 'gave-way', why: errorText(err), full };
  }
  const standby = await standbyReason(link);
  if (standby !== undefined) doubtPrimary(session, member);
  // The cluster may have moved on while the link opened (fencing leaves this attempt to find out): only the primary it names now.
  const moved = standby === undefined ? primaryMovedOn(session, member) : undefined;
  if (session.isOver() || standby !== undefined || moved !== undefined) {
    link.close();
    if (session.isOver()) return { kind: 'over' };
    session.releaseBackend();
    return { kind: 'gave-way', why: `${member.name} ${standby ?? moved}` };
  }
  const { socket, rest } = link.release();
  session.attachBackend(socket);
  session.announceSession();
  session.clientLoggedIn = undefined;
  const relay = (session.relay = new ByteRelay(session.client.stream, socket));
  const tail: Buffer[] = [];
  for (const [name, value] of link.parameters) tail.push(parameterStatus(name, value));
  if (link.cancelKey !== undefined) tail.push(session.cancelKeys.forClient(link.cancelKey));
  tail.push(readyForQuery(TransactionStatus.Idle));
  relay.writeClient(Buffer.concat(tail));
  session.phase = 'relaying';
  const waitedMs = session.services.clock.now() - loggedIn.since;
  session.services.events.sessionMoved({ listener: session.listener.config.name, from: loggedIn.from, to: member.name, waitedMs });
  session.log.info({ from: loggedIn.from, to: member.name, waitedMs, route: decision.routeUsed }, 'session logged in again on the primary');
  startRelaying(session, member, socket, relay, loggedIn.clientRest, rest);
  return { kind: 'placed' };
}

/** Why `member` is no longer where the session's writes belong, when the cluster names another writable primary now (or none). */
function primaryMovedOn(session: SessionCore, member: Member): string | undefined {
  const primary = session.services.feedFor(session.listener.config.cluster)?.current()?.writablePrimary;
  if (primary === member.name) return undefined;
  return primary === undefined ? 'is no longer named the writable primary' : `is no longer the primary (${primary} is)`;
}

/** Why the link's member cannot take writes, if it cannot: in_hot_standby (PostgreSQL 14+), else asked. */
async function standbyReason(link: BackendLink): Promise<string | undefined> {
  const reported = link.parameters.get('in_hot_standby');
  if (reported !== undefined) return reported === 'on' ? 'is in hot standby (read-only)' : undefined;
  return link.recoveryReason();
}

/** A refusal waiting will not change: the member refused the login itself (a dropped role, a database gone), or a certificate the router must not trust. */
function finalRefusal(listener: string, err: unknown): Refusal | undefined {
  if (err instanceof BackendConnectError && !err.retryable) return refusals.backendUnreachable(listener, err.message);
  if (!(err instanceof HandshakeError) || err.reason !== 'refused' || err.sqlstate === undefined) return undefined;
  if (NOT_NOW_CODES.has(err.sqlstate) || err.sqlstate === NO_ROOM) return undefined;
  return refusals.loginRefused(err.sqlstate, err.message);
}
