import type net from 'node:net';
import { negotiationAnswer } from '../wire/serializer.js';
import { ByteRelay } from './byte-relay.js';
import { receiveFirstPacket } from './frontend/first-packet-reader.js';
import { refusals, type Refusal } from './refusal.js';
import type { SessionCore } from './session-core.js';
import { connectTo, place } from './session-placement.js';

/** How long a refused SSLRequest client has to send its plain startup, to hear why (at least). */
const SSL_REFUSAL_GRACE_MS = 2_000;

/**
 * TLS the router cannot open (no certificate): the member chosen now answers the client's
 * SSLRequest, and with S the bytes pass through untouched, as HAProxy's TCP mode does. A
 * member that does no TLS answers N: the router tells the client so and reads its plain
 * startup itself, as if there had been nothing to pass through.
 */
export async function passSslRequestThrough(session: SessionCore): Promise<void> {
  session.request = session.listener.routeRequest();
  let memberRefusedTls = false;
  const refusal = await place(session, session.request, async (member, decision) => {
    const connected = await connectTo(session, member, decision, 'tls');
    if (connected.kind !== 'connected') return connected;
    if (!connected.tlsAccepted) {
      memberRefusedTls = true;
      session.log.debug({ member: member.name }, 'member answered N to the SSLRequest: reading the plain startup instead');
      session.releaseBackend();
      return { kind: 'placed' };
    }
    session.client.write(negotiationAnswer(true));
    relayTlsUntouched(session, connected.socket, Buffer.alloc(0));
    return { kind: 'placed' };
  });
  if (refusal !== undefined) return refuseSslRequest(session, refusal);
  if (!memberRefusedTls || session.isOver()) return;
  session.phase = 'startup';
  session.client.write(negotiationAnswer(false));
  return session.reopen(true);
}

/** A direct-TLS ClientHello (PostgreSQL 17 sslnegotiation=direct): its bytes go to the member chosen now. */
export async function passDirectTlsThrough(session: SessionCore, clientHello: Buffer): Promise<void> {
  session.request = session.listener.routeRequest();
  const refusal = await place(session, session.request, async (member, decision) => {
    const connected = await connectTo(session, member, decision, 'raw');
    if (connected.kind !== 'connected') return connected;
    relayTlsUntouched(session, connected.socket, clientHello);
    return { kind: 'placed' };
  });
  // The client is mid-handshake: a plaintext FATAL would be garbage to it.
  if (refusal !== undefined) finishRefused(session, refusal);
}

function relayTlsUntouched(session: SessionCore, backend: net.Socket, initialBytes: Buffer): void {
  session.phase = 'passthrough';
  const relay = (session.relay = new ByteRelay(session.client.stream, backend));
  // The client's first TLS bytes must come within startup_timeout: until then the member holds a
  // backend for nothing (PostgreSQL's own authentication_timeout is a minute).
  if (initialBytes.length === 0) {
    const silence = session.timers.after(session.startupTimeLeft(), () => finishRefused(session, refusals.startupTimeout()));
    session.client.stream.once('data', () => session.timers.cancel(silence));
  } else backend.write(initialBytes);
  relay.startClientToBackend(Buffer.alloc(0));
  relay.startBackendToClient(Buffer.alloc(0));
}

/**
 * A client waiting for the answer to its SSLRequest reads anything else as "server sent an
 * error response during SSL exchange", without the message (libpq). So the router answers N,
 * reads the plain startup libpq then sends (sslmode=prefer), and only then says why; a client
 * that insists on TLS closes after the N.
 */
export async function refuseSslRequest(session: SessionCore, refusal: Refusal): Promise<void> {
  if (session.isOver()) return;
  session.client.write(negotiationAnswer(false));
  const grace = new AbortController();
  const timer = session.timers.after(Math.max(session.startupTimeLeft(), SSL_REFUSAL_GRACE_MS), () => grace.abort());
  const next = await receiveFirstPacket(session.client.stream, false, AbortSignal.any([grace.signal, session.overSignal]));
  session.timers.cancel(timer);
  if (next.kind === 'gone') session.ending = session.ending ?? 'refused';
  session.refuse(refusal);
}

/** A refusal the client cannot be told in words (TLS passed through): counted and logged, then closed. */
export function finishRefused(session: SessionCore, refusal: Refusal): void {
  if (session.isOver()) return;
  session.services.events.refused({ listener: session.listener.config.name, kind: refusal.kind, sqlstate: refusal.sqlstate, reason: refusal.message });
  session.log.info({ sqlstate: refusal.sqlstate, reason: refusal.message }, 'connection refused (TLS passed through: closed without a message)');
  session.finish('refused');
}
