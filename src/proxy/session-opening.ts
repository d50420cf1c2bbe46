import { parseTargetOverride, stripTargetOverride } from '../routing/target-override.js';
import { startupMessage } from '../wire/serializer.js';
import { forwardCancel } from './cancel-forwarding.js';
import { negotiate, type ClientOpening } from './frontend/negotiation.js';
import { reloginOn } from './member-relogin.js';
import { startOn } from './member-startup.js';
import { refusals } from './refusal.js';
import type { Attempt, SessionCore } from './session-core.js';
import { place } from './session-placement.js';
import { finishRefused, passDirectTlsThrough, passSslRequestThrough, refuseSslRequest } from './tls-passthrough.js';

/**
 * The client's first packet decides the session's way: a startup (placed on a member, with
 * any target override), a cancel, TLS to pass through, or a refusal. `sslRefused`: a member
 * answered the client's SSLRequest N, and the router said so; a plain startup follows.
 */
export async function openSession(session: SessionCore, sslRefused: boolean): Promise<void> {
  const { listener, services } = session;
  const opening = await negotiate(session.client, { serverTls: services.serverTls, timeoutMs: session.startupTimeLeft(), timers: session.timers, sslRefused });
  if (session.isOver()) return;
  if (opening.kind !== 'gone' && opening.kind !== 'cancel' && listener.overCapacity()) {
    const refusal = refusals.tooManyClients(listener.config.name, listener.config.maxClients);
    if (opening.kind !== 'tls-passthrough') return session.refuse(refusal);
    return opening.via === 'ssl-request' ? refuseSslRequest(session, refusal) : finishRefused(session, refusal);
  }
  switch (opening.kind) {
    case 'gone':
      return session.finish('client-closed');
    case 'refused':
      return session.refuse(opening.refusal);
    case 'cancel':
      return relayCancel(session, opening);
    case 'tls-passthrough':
      return opening.via === 'ssl-request' ? passSslRequestThrough(session) : passDirectTlsThrough(session, opening.clientHello);
    case 'startup':
      return startup(session, opening);
  }
}

async function startup(session: SessionCore, opening: Extract<ClientOpening, { kind: 'startup' }>): Promise<void> {
  const { listener, services } = session;
  const config = listener.config;
  if (!opening.params['user']) return session.refuse(refusals.noUser());
  const override = parseTargetOverride(opening.params, services.targetPrefix, config.allowedTargets, config.name);
  if (override.error !== undefined) return session.refuse(refusals.targetRefused(config.name, override.error, override.errorKind === 'unknown'));
  const params = stripTargetOverride(opening.params, services.targetPrefix);
  session.startupUser = opening.params['user'];
  session.links.startedWith(params);
  session.request = listener.routeRequest(override.target ?? config.route);
  const message = startupMessage(opening.major, opening.minor, params);
  const attempt: Attempt = (member, decision) =>
    session.clientLoggedIn === undefined ? startOn(session, member, decision, message, opening.rest) : reloginOn(session, member, decision, session.clientLoggedIn);
  const refusal = await place(session, session.request, attempt);
  if (refusal !== undefined) session.refuse(refusal);
}

/** A CancelRequest: handed to the session that owns the key (here, another worker, or a member), then closed. */
function relayCancel(session: SessionCore, key: { processId: number; secret: Buffer }): void {
  const { cancelRegistry: registry, cancelPeers: peers, serverTls, clock, events } = session.services;
  const outcome = forwardCancel(key, session.listener, {
    registry,
    now: clock.now(),
    log: session.log,
    passThrough: serverTls === undefined,
    ...(peers !== undefined ? { peers } : {}),
  });
  events.cancel({ listener: session.listener.config.name, outcome });
  session.finish('client-closed');
}
