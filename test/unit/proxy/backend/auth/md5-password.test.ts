import { describe, expect, it } from 'vitest';
import { isMd5Secret, Md5Hash, md5HashOfPassword, md5Response } from '../../../../../src/proxy/backend/auth/md5-password.js';
import { readStoredSecret } from '../../../../../src/proxy/backend/auth/stored-secret.js';
import { ScramVerifier } from '../../../../../src/proxy/backend/auth/scram-verifier.js';
import { expectSameBytes, RFC7677 } from './scram-vectors.js';

// md5user/md5pass, computed with Python's hashlib: md5('md5pass' + 'md5user'), then with salt 01020304.
const STORED = 'md57541d4e65fae11bd07f18dc6fe2b02bc';
const RESPONSE_FOR_SALT_01020304 = 'md5b5dfd8fbdd6fc9174cc8e85dfa598fa2';

describe('md5', () => {
  it('answers a challenge from the stored hash alone', () => {
    const hash = new Md5Hash(Buffer.from(STORED));
    expectSameBytes(md5Response(hash.hex, Buffer.from([1, 2, 3, 4])), Buffer.from(RESPONSE_FOR_SALT_01020304), 'md5 response');
  });

  it('derives the stored hash from a password and user name', () => {
    expectSameBytes(md5HashOfPassword(Buffer.from('md5pass'), 'md5user'), Buffer.from(STORED.slice(3)), 'md5 hash');
  });

  it('recognises stored md5 secrets exactly', () => {
    expect(isMd5Secret(STORED)).toBe(true);
    expect(isMd5Secret(STORED.toUpperCase())).toBe(false);
    expect(isMd5Secret(STORED.slice(0, -1))).toBe(false);
    expect(isMd5Secret(`${STORED}0`)).toBe(false);
    expect(isMd5Secret(STORED.replace(/.$/, 'g'))).toBe(false);
    expect(isMd5Secret(RFC7677.verifier)).toBe(false);
    expect(() => new Md5Hash(Buffer.from('md5pass'))).toThrow(/not an md5 secret/);
  });

  it('copies and wipes', () => {
    const hash = new Md5Hash(Buffer.from(STORED));
    const copy = hash.copy();
    hash.wipe();
    expect(() => hash.hex).toThrow(/wiped/);
    expect(copy.hex.toString()).toHaveLength(32);
  });
});

describe('readStoredSecret', () => {
  it('tells a SCRAM verifier from an md5 hash', () => {
    const scram = readStoredSecret(Buffer.from(RFC7677.verifier));
    expect(scram.usable && scram.secret instanceof ScramVerifier).toBe(true);
    const md5 = readStoredSecret(Buffer.from(STORED));
    expect(md5.usable && md5.secret instanceof Md5Hash).toBe(true);
  });

  it('reports no password, plaintext and malformed verifiers as unusable, without the value', () => {
    expect(readStoredSecret(null)).toMatchObject({ usable: false, reason: 'empty' });
    expect(readStoredSecret(Buffer.alloc(0))).toMatchObject({ usable: false, reason: 'empty' });
    const plain = readStoredSecret(Buffer.from('hunter2'));
    expect(plain).toMatchObject({ usable: false, reason: 'unsupported' });
    expect(JSON.stringify(plain).includes('hunter2')).toBe(false);
    const broken = readStoredSecret(Buffer.from(RFC7677.verifier.slice(0, -4)));
    expect(broken).toMatchObject({ usable: false, reason: 'unsupported' });
    expect(JSON.stringify(broken).includes(RFC7677.verifier.slice(30, 60))).toBe(false);
  });
});
