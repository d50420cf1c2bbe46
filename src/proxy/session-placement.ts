import type net from 'node:net';
import type { Logger } from 'pino';
import type { RouteDecision, RouteRequest } from '../routing/route-request.js';
import { routeNoun } from '../routing/route-words.js';
import type { Member } from '../topology/cluster-state.js';
import { BackendConnectError } from './backend/connector.js';
import { placeSession, type AttemptResult, type PlacementHost } from './placement.js';
import { refusals, type Refusal } from './refusal.js';
import type { Attempt, SessionCore } from './session-core.js';

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Places the session; returns what to tell the client when no member took it. */
export async function place(session: SessionCore, request: RouteRequest, attempt: Attempt): Promise<Refusal | undefined> {
  const result = await placeSession(placementHost(session, attempt), request);
  if (result.kind === 'refused') return result.refusal;
  if (result.kind === 'over' && !session.isOver()) session.finish('client-closed');
  return undefined;
}

function placementHost(session: SessionCore, attempt: Attempt): PlacementHost {
  const sessionLog = (): Logger => session.log;
  return {
    listener: session.listener,
    feed: session.services.feedFor(session.listener.config.cluster),
    holdQueue: session.services.holdQueue,
    events: session.services.events,
    clock: session.services.clock,
    // Placement logs only when it holds or retries: the child logger is made then, if ever.
    get log() {
      return sessionLog();
    },
    signal: session.overSignal,
    isOver: () => session.isOver(),
    setPhase: (phase) => {
      if (!session.isOver()) session.phase = phase;
    },
    attempt,
  };
}

/**
 * Connects to a candidate: `startup` with the backend TLS mode (the router reads the
 * startup), `raw` plain TCP, `tls` plain TCP plus the client's SSLRequest on its behalf.
 * A socket, or what placement should do instead.
 */
export async function connectTo(
  session: SessionCore,
  member: Member,
  decision: RouteDecision,
  how: 'startup' | 'raw' | 'tls',
): Promise<{ kind: 'connected'; socket: net.Socket; tlsAccepted: boolean } | AttemptResult> {
  const config = session.listener.config;
  // Placement reserved the member's slot for this session: it is ours to release from here.
  session.occupy(member);
  session.phase = 'connecting';
  const address = { host: member.host as string, port: member.port as number };
  let backend: net.Socket;
  let tlsAccepted = false;
  try {
    const { connector } = session.services;
    if (how === 'tls') ({ socket: backend, accepted: tlsAccepted } = await connector.connectForTls(address, config.connectTimeoutMs));
    else backend = how === 'raw' ? await connector.connectRaw(address, config.connectTimeoutMs) : await connector.connect(address, config.connectTimeoutMs);
  } catch (err) {
    if (session.isOver()) return { kind: 'over' };
    const message = errorText(err);
    session.log.warn({ member: member.name, err: message }, 'backend connect failed');
    if (err instanceof BackendConnectError && !err.retryable) {
      // A certificate the router must not trust: waiting will not change it.
      const where = `${routeNoun(decision.routeUsed)} ${member.name} (${member.host}:${member.port}) of cluster ${config.cluster}`;
      session.refuse(refusals.backendUnreachable(config.name, `could not connect to ${where}: ${message}`));
      return { kind: 'over' };
    }
    session.releaseMember();
    session.member = undefined;
    return { kind: 'gave-way', why: message };
  }
  if (session.isOver()) {
    backend.destroy();
    return { kind: 'over' };
  }
  session.attachBackend(backend);
  session.announceSession();
  return { kind: 'connected', socket: backend, tlsAccepted };
}

/** A write login found `member`, which the state names the writable primary, in hot standby: the follower looks again now. */
export function doubtPrimary(session: SessionCore, member: Member): void {
  const feed = session.services.feedFor(session.listener.config.cluster);
  if (feed?.current()?.writablePrimary === member.name) feed.doubt?.(member.name, 'a write login found it in hot standby');
}

/** Drops a backend that refused the startup before anything reached the client. */
export function giveWay(session: SessionCore, why: string): AttemptResult {
  session.log.info({ member: session.member?.name, reason: why }, 'member could not take the session; trying the next candidate');
  session.releaseBackend();
  return { kind: 'gave-way', why };
}
