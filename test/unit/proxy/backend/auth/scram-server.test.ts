import { describe, expect, it } from 'vitest';
import { ScramClient } from '../../../../../src/proxy/backend/auth/scram-client.js';
import { ScramServer, ScramServerError } from '../../../../../src/proxy/backend/auth/scram-server.js';
import { parseScramVerifier } from '../../../../../src/proxy/backend/auth/scram-verifier.js';
import { PasswordSessionSecret } from '../../../../../src/proxy/backend/auth/session-secret.js';
import { expectSameBytes, VECTORS } from './scram-vectors.js';

describe('ScramServer (the router answering SCRAM itself, from the verifier)', () => {
  it.each(VECTORS)('answers as the known exchange $name does, and recovers the ClientKey', (v) => {
    const serverNonce = v.serverFirst.slice(2 + v.clientNonce.length, v.serverFirst.indexOf(','));
    const server = new ScramServer(parseScramVerifier(v.verifier), { nonce: serverNonce });
    expect(server.first('SCRAM-SHA-256', Buffer.from(v.clientFirst)).toString()).toBe(v.serverFirst);
    const { secret, serverFinal } = server.final(Buffer.from(v.clientFinal));
    expect(serverFinal.toString()).toBe(v.serverFinal);
    expectSameBytes(secret.clientKey, Buffer.from(v.clientKeyHex, 'hex'), 'ClientKey');
    secret.wipe();
  });

  it('lets a real SCRAM client with the right password in, and it verifies the router as the server', () => {
    const v = VECTORS[1]!;
    const server = new ScramServer(parseScramVerifier(v.verifier));
    const client = new ScramClient(new PasswordSessionSecret(Buffer.from(v.password)));
    const start = client.start(ScramServer.mechanisms());
    const final = client.respond(server.first(start.mechanism, start.data));
    const { serverFinal, secret } = server.final(final);
    client.verify(serverFinal);
    expect(client.serverVerified).toBe(true);
    secret.wipe();
  });

  it('refuses a wrong password, channel binding it did not offer, and messages out of order', () => {
    const v = VECTORS[1]!;
    const wrong = new ScramClient(new PasswordSessionSecret(Buffer.from('not the password')));
    const server = new ScramServer(parseScramVerifier(v.verifier));
    const start = wrong.start(ScramServer.mechanisms());
    const final = wrong.respond(server.first(start.mechanism, start.data));
    expect(() => server.final(final)).toThrow(expect.objectContaining({ reason: 'wrong-proof' }));
    expect(() => new ScramServer(parseScramVerifier(v.verifier)).first('SCRAM-SHA-256-PLUS', Buffer.from(v.clientFirst))).toThrow(ScramServerError);
    expect(() => new ScramServer(parseScramVerifier(v.verifier)).first('SCRAM-SHA-256', Buffer.from(`p=tls-server-end-point,,n=,r=${v.clientNonce}`))).toThrow(
      expect.objectContaining({ reason: 'channel-binding' }),
    );
    expect(() => new ScramServer(parseScramVerifier(v.verifier)).final(Buffer.from(v.clientFinal))).toThrow(expect.objectContaining({ reason: 'out-of-order' }));
    expect(() => new ScramServer(parseScramVerifier(v.verifier)).first('SCRAM-SHA-256', Buffer.from('garbage'))).toThrow(expect.objectContaining({ reason: 'malformed' }));
  });
});
