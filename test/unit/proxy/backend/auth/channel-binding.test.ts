import { describe, expect, it } from 'vitest';
import {
  channelBindingUnavailable,
  channelBindingVerdict,
  LIBPQ_CHANNEL_BINDING_REQUIRED,
  mechanismsWithoutChannelBinding,
} from '../../../../../src/proxy/backend/auth/channel-binding.js';
import { parseAuthRequest } from '../../../../../src/wire/auth-request.js';
import { parseError } from '../../../../../src/wire/parser.js';
import { authenticationSasl, errorResponse } from '../../../../../src/wire/serializer.js';
import { frameOf } from '../../../../support/test-buffers.js';

describe('channel binding through the router', () => {
  it('removes SCRAM-SHA-256-PLUS from the offer a member sends over TLS', () => {
    const offer = authenticationSasl(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
    const request = parseAuthRequest(frameOf(offer).body);
    if (request.kind !== 'sasl') throw new Error('not a SASL request');
    const forwarded = authenticationSasl(mechanismsWithoutChannelBinding(request.mechanisms));
    expect(forwarded.equals(authenticationSasl(['SCRAM-SHA-256']))).toBe(true);
    expect(parseAuthRequest(frameOf(forwarded).body)).toEqual({ kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] });
  });

  it('leaves nothing to offer when the member offers only -PLUS', () => {
    expect(mechanismsWithoutChannelBinding(['SCRAM-SHA-256-PLUS'])).toEqual([]);
  });

  it('tells a client that requires channel binding why, in the words libpq uses', () => {
    expect(LIBPQ_CHANNEL_BINDING_REQUIRED).toMatch(/^channel binding is required, but server did not offer/);
    const refusal = channelBindingUnavailable();
    expect(refusal).toMatchObject({ severity: 'FATAL', code: '28000' });
    expect(refusal.message).toMatch(/cannot relay SCRAM channel binding/);
    expect(refusal.hint).toMatch(/channel_binding=prefer or disable/);
  });

  it('writes its refusal as the FATAL ErrorResponse the serializer builds', () => {
    const written = parseError(frameOf(errorResponse(channelBindingUnavailable())).body);
    expect(written).toMatchObject({ severity: 'FATAL', code: '28000', message: channelBindingUnavailable().message });
  });

  it('knows a y flag is refused by a member that itself supports channel binding', () => {
    expect(channelBindingVerdict({ flag: 'n' }, { tls: true })).toBe('relayable');
    expect(channelBindingVerdict({ flag: 'y' }, { tls: false })).toBe('relayable');
    expect(channelBindingVerdict({ flag: 'y' }, { tls: true })).toBe('member-will-refuse-downgrade');
    expect(channelBindingVerdict({ flag: 'p', type: 'tls-server-end-point' }, { tls: true })).toBe('channel-binding-requested');
  });
});
