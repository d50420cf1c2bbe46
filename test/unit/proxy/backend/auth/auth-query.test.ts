import { describe, expect, it } from 'vitest';
import { AuthQueryAnswerError, readAuthQueryRows, type TextRow } from '../../../../../src/proxy/backend/auth/auth-query.js';
import { Md5Hash } from '../../../../../src/proxy/backend/auth/md5-password.js';
import { ScramVerifier } from '../../../../../src/proxy/backend/auth/scram-verifier.js';
import { RFC7677 } from './scram-vectors.js';

const MD5 = 'md57541d4e65fae11bd07f18dc6fe2b02bc';
function row(user: string, secret: string | null, canLogin: 't' | 'f', expiresIn: string | null): TextRow {
  const b = (text: string | null) => (text === null ? null : Buffer.from(text));
  return [b(user), b(secret), b(expiresIn === null ? null : '2030-01-01 00:00:00+00'), b(canLogin), b(expiresIn)];
}

describe('readAuthQueryRows', () => {
  it('reads a SCRAM verifier and an md5 hash as usable', () => {
    const scram = readAuthQueryRows('app', [row('app', RFC7677.verifier, 't', null)]);
    expect(scram.usable && scram.secret instanceof ScramVerifier && scram.expiresInSeconds === null).toBe(true);
    const md5 = readAuthQueryRows('old', [row('old', MD5, 't', '3600.5')]);
    expect(md5.usable && md5.secret instanceof Md5Hash && md5.expiresInSeconds === 3600.5).toBe(true);
  });

  it('never calls a missing, NOLOGIN, expired or password-less role usable', () => {
    expect(readAuthQueryRows('ghost', [])).toMatchObject({ usable: false, reason: 'not-found' });
    expect(readAuthQueryRows('locked', [row('locked', RFC7677.verifier, 'f', null)])).toMatchObject({ usable: false, reason: 'no-login' });
    expect(readAuthQueryRows('gone', [row('gone', RFC7677.verifier, 't', '-12.25')])).toMatchObject({ usable: false, reason: 'expired' });
    expect(readAuthQueryRows('gone', [row('gone', RFC7677.verifier, 't', '0')])).toMatchObject({ usable: false, reason: 'expired' });
    expect(readAuthQueryRows('nopw', [row('nopw', null, 't', null)])).toMatchObject({ usable: false, reason: 'no-password' });
    expect(readAuthQueryRows('odd', [row('odd', 'plaintext?', 't', null)])).toMatchObject({ usable: false, reason: 'unsupported-secret' });
  });

  it('refuses answers that do not fit the question', () => {
    expect(() => readAuthQueryRows('a', [row('a', MD5, 't', null), row('a', MD5, 't', null)])).toThrow(AuthQueryAnswerError);
    expect(() => readAuthQueryRows('a', [row('b', MD5, 't', null)])).toThrow(/another role/);
    expect(() => readAuthQueryRows('a', [[Buffer.from('a')]])).toThrow(/columns/);
    expect(() => readAuthQueryRows('a', [row('a', MD5, 't', 'soon')])).toThrow(/expiry/);
  });
});
