import type { RouteDecision } from '../routing/route-request.js';
import type { Member } from '../topology/cluster-state.js';
import type { LoginContext } from './backend/login-watch.js';
import { StartupRelay } from './backend/startup-relay.js';
import { ByteRelay } from './byte-relay.js';
import type { AttemptResult } from './placement.js';
import { refusals } from './refusal.js';
import type { SessionCore } from './session-core.js';
import { connectTo, doubtPrimary, giveWay } from './session-placement.js';
import { startRelaying } from './session-relay.js';

/** Runs the client's startup on `member`, relaying authentication untouched, then hands the session to its relay. */
export async function startOn(session: SessionCore, member: Member, decision: RouteDecision, message: Buffer, clientRest: Buffer): Promise<AttemptResult> {
  const connected = await connectTo(session, member, decision, 'startup');
  if (connected.kind !== 'connected') return connected;
  const backend = connected.socket;
  const config = session.listener.config;
  session.phase = 'authenticating';
  const relay = (session.relay = new ByteRelay(session.client.stream, backend));
  const startup = (session.startupRelay = new StartupRelay({
    backend,
    startupMessage: message,
    writeRoute: decision.routeUsed === 'primary',
    canRetry: true,
    client: session.client.stream,
    clientRest,
    login: loginContext(session),
    toClient: (bytes) => relay.writeClient(bytes),
    onCancelKey: (key) => session.cancelKeys.forClient(key),
    firstAnswerTimeoutMs: config.connectTimeoutMs,
    timeoutMs: session.services.authenticationTimeoutMs,
    timers: session.timers,
  }));
  const outcome = await startup.run();
  session.startupRelay = undefined;
  switch (outcome.kind) {
    case 'ready':
      session.phase = 'relaying';
      session.links.learned(outcome.secret);
      if (!session.links.possible && config.links) session.log.info({ member: member.name, reason: session.links.singleLinkReason }, 'session stays on one member');
      startRelaying(session, member, backend, relay, outcome.clientRest, outcome.rest);
      return { kind: 'placed' };
    case 'login-refused':
      session.refuse(refusals.loginRefused(outcome.error.code, outcome.error.message));
      return { kind: 'over' };
    case 'give-way': {
      if (outcome.standby === true) doubtPrimary(session, member);
      session.log.info({ member: member.name, reason: outcome.why }, 'member could not take the session');
      const why = `${member.name} ${outcome.why}`;
      giveWay(session, why);
      return outcome.full === undefined ? { kind: 'gave-way', why } : { kind: 'gave-way', why, full: outcome.full };
    }
    case 'lost':
      if (!outcome.reachedClient) return giveWay(session, `connection to ${member.name} lost during startup: ${outcome.why}`);
      session.ending = 'backend-error';
      session.closeWithError(refusals.memberLost(config.name, member.name, outcome.why));
      return { kind: 'over' };
    case 'read-only':
      doubtPrimary(session, member);
      if (outcome.secret === undefined) {
        session.refuse(refusals.memberReadOnly(config.name, member.name, config.cluster));
        return { kind: 'over' };
      }
      // The client is logged in and saw nothing of this member's session: hold it for the primary.
      session.links.learned({ secret: outcome.secret });
      session.clientLoggedIn = { clientRest: outcome.clientRest, from: member.name, since: session.services.clock.now() };
      return giveWay(session, `${member.name} is in hot standby (read-only)`);
    case 'protocol-violation':
      session.refuse(refusals.memberProtocolViolation(config.name, member.name, outcome.what));
      return { kind: 'over' };
    case 'timed-out':
      session.refuse(refusals.authenticationTimeout(config.name, member.name, session.services.authenticationTimeoutMs));
      return { kind: 'over' };
    case 'abandoned':
      return { kind: 'over' };
  }
}

/** What the login relay needs to know about this session's two connections. */
function loginContext(session: SessionCore): LoginContext {
  const user = session.startupUser ?? '';
  const lookup = session.services.secretLookup;
  const cluster = session.listener.config.cluster;
  return {
    user,
    clientTlsTerminated: session.client.tlsTerminated,
    learnSecret: session.listener.config.links,
    ...(lookup !== undefined ? { lookup: () => lookup(cluster, user) } : {}),
  };
}
