import { describe, expect, it } from 'vitest';
import { saslprepPassword } from '../../../../../src/proxy/backend/auth/saslprep.js';
import { ScramClient, ScramClientError } from '../../../../../src/proxy/backend/auth/scram-client.js';
import { parseScramVerifier } from '../../../../../src/proxy/backend/auth/scram-verifier.js';
import { PasswordSessionSecret, ScramSessionSecret } from '../../../../../src/proxy/backend/auth/session-secret.js';
import { POSTGRES_STYLE } from './scram-vectors.js';

const verifier = parseScramVerifier(POSTGRES_STYLE.verifier);
const keySecret = (): ScramSessionSecret => new ScramSessionSecret(Buffer.from(POSTGRES_STYLE.clientKeyHex, 'hex'), verifier.serverKey, verifier.salt, verifier.iterations);
const nonce = POSTGRES_STYLE.clientNonce;

function failure(step: () => unknown): ScramClientError {
  try {
    step();
  } catch (error) {
    if (error instanceof ScramClientError) return error;
    throw error;
  }
  throw new Error('expected a ScramClientError');
}

describe.each([
  ['the ClientKey alone', keySecret],
  ['the password', () => new PasswordSessionSecret(POSTGRES_STYLE.password)],
] as const)('ScramClient with %s', (_name, credential) => {
  it('produces libpq-shaped messages and accepts a server that proves the ServerKey', () => {
    const client = new ScramClient(credential(), { nonce });
    const first = client.start(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
    expect(first.mechanism).toBe('SCRAM-SHA-256');
    expect(first.data.toString()).toBe(POSTGRES_STYLE.clientFirst);
    expect(client.respond(Buffer.from(POSTGRES_STYLE.serverFirst)).toString()).toBe(POSTGRES_STYLE.clientFinal);
    expect(client.serverVerified).toBe(false);
    client.verify(Buffer.from(POSTGRES_STYLE.serverFinal));
    expect(client.serverVerified).toBe(true);
  });

  it('rejects a server that cannot prove it knows the ServerKey', () => {
    const client = new ScramClient(credential(), { nonce });
    client.start(['SCRAM-SHA-256']);
    client.respond(Buffer.from(POSTGRES_STYLE.serverFirst));
    const forged = `v=${Buffer.alloc(32, 0x42).toString('base64')}`;
    expect(failure(() => client.verify(Buffer.from(forged))).reason).toBe('server-not-verified');
    expect(client.serverVerified).toBe(false);
  });

  it('reports a server-final error', () => {
    const client = new ScramClient(credential(), { nonce });
    client.start(['SCRAM-SHA-256']);
    client.respond(Buffer.from(POSTGRES_STYLE.serverFirst));
    expect(failure(() => client.verify(Buffer.from('e=invalid-proof'))).reason).toBe('server-error');
  });

  it('refuses an offer without plain SCRAM-SHA-256 and messages out of order', () => {
    expect(failure(() => new ScramClient(credential()).start(['SCRAM-SHA-256-PLUS'])).reason).toBe('no-scram-offered');
    expect(failure(() => new ScramClient(credential()).respond(Buffer.from(POSTGRES_STYLE.serverFirst))).reason).toBe('out-of-order');
    const client = new ScramClient(credential(), { nonce });
    client.start(['SCRAM-SHA-256']);
    expect(failure(() => client.verify(Buffer.from(POSTGRES_STYLE.serverFinal))).reason).toBe('out-of-order');
  });

  it('refuses a server-first that does not continue its nonce or is malformed', () => {
    for (const serverFirst of ['r=someoneelse,s=AAECAwQFBgcICQoLDA0ODw==,i=4096', `r=${nonce}x,s=***,i=4096`, `r=${nonce},s=AAECAwQFBgcICQoLDA0ODw==,i=4096`]) {
      const client = new ScramClient(credential(), { nonce });
      client.start(['SCRAM-SHA-256']);
      expect(failure(() => client.respond(Buffer.from(serverFirst))).reason).toBe('malformed');
    }
  });

  it('uses a fresh random nonce by default', () => {
    const a = new ScramClient(credential()).start(['SCRAM-SHA-256']).data.toString();
    const b = new ScramClient(credential()).start(['SCRAM-SHA-256']).data.toString();
    expect(a).toMatch(/^n,,n=,r=[A-Za-z0-9+/]{24}$/);
    expect(a).not.toBe(b);
  });
});

describe('ScramClient with a ClientKey on a member with another verifier', () => {
  it('stops before sending a proof when the salt or the iteration count differ', () => {
    for (const serverFirst of [`r=${nonce}srv,s=${Buffer.alloc(16, 3).toString('base64')},i=4096`, `r=${nonce}srv,s=${verifier.salt.toString('base64')},i=8192`]) {
      const client = new ScramClient(keySecret(), { nonce });
      client.start(['SCRAM-SHA-256']);
      const error = failure(() => client.respond(Buffer.from(serverFirst)));
      expect(error.reason).toBe('other-verifier');
      expect(error.message).toMatch(/password changed/);
    }
  });
});

describe('ScramClient with a password', () => {
  it('bounds the PBKDF2 work a server can ask for', () => {
    const client = new ScramClient(new PasswordSessionSecret('x'), { nonce, maxIterations: 10_000 });
    client.start(['SCRAM-SHA-256']);
    const error = failure(() => client.respond(Buffer.from(`r=${nonce}srv,s=QUJD,i=10001`)));
    expect(error.reason).toBe('iterations-too-high');
  });
});

describe('saslprepPassword', () => {
  const prep = (text: string) => saslprepPassword(Buffer.from(text, 'utf8')).toString('utf8');
  it('leaves ASCII alone, maps and normalises the rest as RFC 4013 examples', () => {
    expect(prep('pencil')).toBe('pencil');
    expect(prep('I\u00adX')).toBe('IX');
    expect(prep('\u00aa')).toBe('a');
    expect(prep('\u2168')).toBe('IX');
    expect(prep('a\u00a0b')).toBe('a b');
  });
  it('keeps the raw bytes when the result is prohibited or the input is not UTF-8', () => {
    expect(prep('\u00e9\u0007')).toBe('\u00e9\u0007');
    const invalid = Buffer.from([0x70, 0xff, 0x71]);
    expect(saslprepPassword(invalid).equals(invalid)).toBe(true);
  });
});
