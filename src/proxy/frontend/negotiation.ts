import type tls from 'node:tls';
import type { TimerSet } from '../clock.js';
import { refusals, type Refusal } from '../refusal.js';
import { negotiationAnswer } from '../../wire/serializer.js';
import type { StartupParams } from '../../wire/startup-params.js';
import type { ClientConnection } from './client-connection.js';
import { receiveFirstPacket } from './first-packet-reader.js';

/** What a client opened its connection for, once the TLS/GSS negotiation is behind it. */
export type ClientOpening =
  | { kind: 'startup'; major: number; minor: number; params: StartupParams; rest: Buffer }
  | { kind: 'cancel'; processId: number; secret: Buffer }
  /**
   * TLS the router cannot open (no certificate), to pass through to a member: an SSLRequest
   * not answered yet, or a direct-TLS ClientHello (its bytes, nothing consumed).
   */
  | { kind: 'tls-passthrough'; via: 'ssl-request' }
  | { kind: 'tls-passthrough'; via: 'direct-tls'; clientHello: Buffer }
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'gone' };

export interface NegotiationOptions {
  /** Set when the router terminates TLS. */
  serverTls: tls.SecureContext | undefined;
  /** The client must be past the negotiation and its startup packet within this. */
  timeoutMs: number;
  timers: TimerSet;
  /** The client's SSLRequest was already answered N (by a member that does no TLS): a plain startup follows. */
  sslRefused?: boolean;
}

/**
 * Reads the client's first packets: SSLRequest / GSSENCRequest / direct TLS (answered or
 * upgraded here), then a StartupMessage or a CancelRequest, all within the startup timeout.
 */
export async function negotiate(client: ClientConnection, options: NegotiationOptions): Promise<ClientOpening> {
  const timeout = new AbortController();
  const timer = options.timers.after(options.timeoutMs, () => timeout.abort());
  try {
    return await readOpening(client, options.serverTls, options.sslRefused === true, timeout.signal);
  } finally {
    options.timers.cancel(timer);
  }
}

async function readOpening(client: ClientConnection, serverTls: tls.SecureContext | undefined, sslRefused: boolean, signal: AbortSignal): Promise<ClientOpening> {
  let inTls = false;
  let sslAnswered = sslRefused;
  for (;;) {
    const received = await receiveFirstPacket(client.stream, !inTls, signal);
    if (received.kind === 'gone') return { kind: 'gone' };
    if (received.kind === 'aborted') return { kind: 'refused', refusal: refusals.startupTimeout() };
    const { read, rest } = received;
    if (read.status === 'invalid') return { kind: 'refused', refusal: refusals.badStartup(read.message, read.code) };
    const packet = read.packet;
    switch (packet.kind) {
      case 'gssenc-request':
        if (inTls || rest.length > 0) return { kind: 'refused', refusal: refusals.badStartup('unexpected GSSENCRequest') };
        // The router does not do GSSAPI encryption; libpq then tries SSL or plain.
        client.write(negotiationAnswer(false));
        continue;
      case 'ssl-request':
        if (inTls) return { kind: 'refused', refusal: refusals.badStartup('SSLRequest inside TLS') };
        if (sslAnswered) return { kind: 'refused', refusal: refusals.badStartup('SSLRequest after the SSL negotiation') };
        // Bytes sent before the TLS handshake would be trusted as if encrypted (CVE-2021-23214).
        if (rest.length > 0) return { kind: 'refused', refusal: refusals.badStartup('received unencrypted data after SSL request') };
        if (serverTls === undefined) return { kind: 'tls-passthrough', via: 'ssl-request' };
        sslAnswered = true;
        client.write(negotiationAnswer(true));
        client.upgrade(serverTls);
        inTls = true;
        continue;
      case 'direct-tls':
        if (sslAnswered) return { kind: 'refused', refusal: refusals.badStartup('TLS ClientHello after the SSL negotiation') };
        if (serverTls === undefined) return { kind: 'tls-passthrough', via: 'direct-tls', clientHello: rest };
        client.unshift(rest);
        client.upgrade(serverTls);
        inTls = true;
        continue;
      case 'cancel-request':
        return { kind: 'cancel', processId: packet.processId, secret: packet.secret };
      case 'startup':
        return { kind: 'startup', major: packet.major, minor: packet.minor, params: packet.params, rest };
    }
  }
}
