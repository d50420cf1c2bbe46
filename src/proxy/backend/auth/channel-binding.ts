import type { ErrorFields } from '../../../wire/serializer.js';
import type { ChannelBindingFlag } from './scram-messages.js';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';
export const SCRAM_SHA_256_PLUS = 'SCRAM-SHA-256-PLUS';

/** A refusal the router writes with serializer.ts's errorResponse: it ends the login, so FATAL. */
export type AuthRefusal = ErrorFields & { severity: 'FATAL' };

/**
 * The mechanism list to forward to a client. Channel binding (`tls-server-end-point`) binds the
 * SCRAM proof to the certificate of the TLS connection the client sees; through the router that
 * is the router's connection, not the member's, so a relayed SCRAM-SHA-256-PLUS exchange fails at
 * the member. Removing it from the offer makes clients pick plain SCRAM-SHA-256.
 * An empty result means the member offers nothing the router can relay: refuse with
 * `channelBindingUnavailable()`.
 */
export function mechanismsWithoutChannelBinding(mechanisms: readonly string[]): string[] {
  return mechanisms.filter((mechanism) => mechanism !== SCRAM_SHA_256_PLUS);
}

/**
 * What libpq prints, and then closes the connection by itself, when it runs with
 * `channel_binding=require` and the offer lacks SCRAM-SHA-256-PLUS (libpq 14+, fe-auth.c).
 * The router sends nothing: the client decides. Quoted for documentation and tests.
 */
export const LIBPQ_CHANNEL_BINDING_REQUIRED = 'channel binding is required, but server did not offer an authentication method that supports channel binding';

/** The router's own FATAL for a client that selects SCRAM-SHA-256-PLUS (or `p=`) anyway. */
export function channelBindingUnavailable(): AuthRefusal {
  return {
    severity: 'FATAL',
    code: '28000',
    message: 'patroni-router cannot relay SCRAM channel binding (SCRAM-SHA-256-PLUS)',
    detail: "Channel binding ties the login to the TLS certificate of the client's connection, which ends at the router, not at the PostgreSQL server.",
    hint: 'Connect with channel_binding=prefer or disable, or connect to the server directly.',
  };
}

/**
 * Whether a relayed client-first-message can succeed at the member. `y` means "I support channel
 * binding but the server did not offer it": libpq sends it by default (channel_binding=prefer)
 * whenever its own connection is TLS, node-postgres with enableChannelBinding. A member that
 * itself supports channel binding, i.e. one reached over TLS, must refuse it as a possible
 * downgrade: PostgreSQL 15 answers 28000 "SCRAM channel binding negotiation error" (checked by
 * test/integration/auth-tls.test.ts). The router cannot rewrite the flag: the client's proof
 * covers it (c= is part of the AuthMessage). So when the router terminates a client's TLS and
 * uses TLS to the member, relaying SCRAM fails for libpq's defaults.
 */
export function channelBindingVerdict(flag: ChannelBindingFlag, memberLink: { tls: boolean }): 'relayable' | 'channel-binding-requested' | 'member-will-refuse-downgrade' {
  if (flag.flag === 'p') return 'channel-binding-requested';
  if (flag.flag === 'y' && memberLink.tls) return 'member-will-refuse-downgrade';
  return 'relayable';
}
