import { describe, expect, it } from 'vitest';
import { Md5Hash } from '../../../../../src/proxy/backend/auth/md5-password.js';
import { LoginError, MemberLogin, type LoginStep } from '../../../../../src/proxy/backend/auth/member-login.js';
import { parseScramVerifier } from '../../../../../src/proxy/backend/auth/scram-verifier.js';
import { Md5SessionSecret, PasswordSessionSecret, ScramSessionSecret, TrustSessionSecret, type SessionSecret } from '../../../../../src/proxy/backend/auth/session-secret.js';
import { parseSaslInitialResponse } from '../../../../../src/wire/parser.js';
import { POSTGRES_STYLE } from './scram-vectors.js';

const verifier = parseScramVerifier(POSTGRES_STYLE.verifier);
const scram = (): ScramSessionSecret => new ScramSessionSecret(Buffer.from(POSTGRES_STYLE.clientKeyHex, 'hex'), verifier.serverKey, verifier.salt, 4096);
const md5 = (): Md5SessionSecret => new Md5SessionSecret(new Md5Hash(Buffer.from('md57541d4e65fae11bd07f18dc6fe2b02bc')));
const salt = Buffer.from([1, 2, 3, 4]);
const nonce = POSTGRES_STYLE.clientNonce;

function sent(step: LoginStep): Buffer {
  if (step.kind !== 'send') throw new Error(`expected a message to send, got ${step.kind}`);
  expect(String.fromCharCode(step.message[0] as number)).toBe('p');
  expect(step.message.readInt32BE(1)).toBe(step.message.length - 1);
  return step.message.subarray(5);
}

function refusal(secret: SessionSecret, run: (login: MemberLogin) => void): LoginError {
  const login = new MemberLogin(secret, 'md5user', { nonce });
  try {
    run(login);
  } catch (error) {
    if (error instanceof LoginError) return error;
    throw error;
  }
  throw new Error('expected a LoginError');
}

describe('MemberLogin', () => {
  it('logs in with a SCRAM ClientKey: initial response, final, then Ok', () => {
    const login = new MemberLogin(scram(), 'app', { nonce });
    const initial = parseSaslInitialResponse(sent(login.respond({ kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] })));
    expect(initial?.mechanism).toBe('SCRAM-SHA-256');
    expect(initial?.data?.toString()).toBe(POSTGRES_STYLE.clientFirst);
    expect(sent(login.respond({ kind: 'sasl-continue', data: Buffer.from(POSTGRES_STYLE.serverFirst) })).toString()).toBe(POSTGRES_STYLE.clientFinal);
    expect(login.respond({ kind: 'sasl-final', data: Buffer.from(POSTGRES_STYLE.serverFinal) })).toEqual({ kind: 'wait' });
    expect(login.respond({ kind: 'ok' })).toEqual({ kind: 'authenticated' });
  });

  it('refuses an Ok that skips SCRAM when it holds a SCRAM key', () => {
    expect(refusal(scram(), (login) => login.respond({ kind: 'ok' })).reason).toBe('server-not-verified');
    const error = refusal(scram(), (login) => {
      login.respond({ kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] });
      login.respond({ kind: 'sasl-continue', data: Buffer.from(POSTGRES_STYLE.serverFirst) });
      login.respond({ kind: 'ok' });
    });
    expect(error.reason).toBe('server-not-verified');
  });

  it('turns a forged server signature into a login error', () => {
    const error = refusal(scram(), (login) => {
      login.respond({ kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] });
      login.respond({ kind: 'sasl-continue', data: Buffer.from(POSTGRES_STYLE.serverFirst) });
      login.respond({ kind: 'sasl-final', data: Buffer.from(`v=${Buffer.alloc(32).toString('base64')}`) });
    });
    expect(error.reason).toBe('scram-server-not-verified');
  });

  it('answers md5 from the stored hash', () => {
    const login = new MemberLogin(md5(), 'md5user');
    expect(sent(login.respond({ kind: 'md5-password', salt })).toString('latin1')).toBe('md5b5dfd8fbdd6fc9174cc8e85dfa598fa2\0');
    expect(login.respond({ kind: 'ok' })).toEqual({ kind: 'authenticated' });
  });

  it('answers cleartext, md5 and SCRAM from a password', () => {
    const password = () => new PasswordSessionSecret('md5pass');
    expect(sent(new MemberLogin(password(), 'md5user').respond({ kind: 'cleartext-password' })).toString()).toBe('md5pass\0');
    expect(sent(new MemberLogin(password(), 'md5user').respond({ kind: 'md5-password', salt })).toString('latin1')).toBe('md5b5dfd8fbdd6fc9174cc8e85dfa598fa2\0');
    const login = new MemberLogin(new PasswordSessionSecret(POSTGRES_STYLE.password), 'app', { nonce });
    login.respond({ kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] });
    expect(sent(login.respond({ kind: 'sasl-continue', data: Buffer.from(POSTGRES_STYLE.serverFirst) })).toString()).toBe(POSTGRES_STYLE.clientFinal);
  });

  it('accepts trust and nothing else with no secret', () => {
    expect(new MemberLogin(new TrustSessionSecret(), 'x').respond({ kind: 'ok' })).toEqual({ kind: 'authenticated' });
    for (const request of [{ kind: 'md5-password', salt } as const, { kind: 'cleartext-password' } as const, { kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] } as const]) {
      expect(refusal(new TrustSessionSecret(), (login) => login.respond(request)).reason).toBe('method-mismatch');
    }
  });

  it('never sends a password it does not have, and never names the secret', () => {
    for (const [secret, request] of [
      [scram(), { kind: 'md5-password', salt }],
      [scram(), { kind: 'cleartext-password' }],
      [md5(), { kind: 'cleartext-password' }],
      [md5(), { kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] }],
    ] as const) {
      const error = refusal(secret, (login) => login.respond(request));
      expect(error.reason).toBe('method-mismatch');
      expect(error.message).toMatch(/^the server asks for .*, but the router holds (a SCRAM key|an md5 hash) for this user$/);
      expect(error.message.includes('7541d4e6')).toBe(false);
    }
  });

  it('refuses GSSAPI/SSPI and a SASL step before SASL started', () => {
    expect(refusal(scram(), (login) => login.respond({ kind: 'unsupported', code: 7 })).reason).toBe('unsupported-method');
    expect(refusal(scram(), (login) => login.respond({ kind: 'sasl-continue', data: Buffer.alloc(0) })).reason).toBe('protocol');
  });
});
