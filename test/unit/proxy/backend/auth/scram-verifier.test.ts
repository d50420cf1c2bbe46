import { describe, expect, it } from 'vitest';
import { parseScramVerifier, ScramVerifierError } from '../../../../../src/proxy/backend/auth/scram-verifier.js';
import { POSTGRES_STYLE, RFC7677 } from './scram-vectors.js';

describe('parseScramVerifier', () => {
  it('reads iterations, salt and both keys of a pg_authid verifier', () => {
    const verifier = parseScramVerifier(RFC7677.verifier);
    expect(verifier.iterations).toBe(4096);
    expect(verifier.salt.toString('base64')).toBe('W22ZaJ0SNY7soEsUEjb6gQ==');
    expect(verifier.storedKey.length).toBe(32);
    expect(verifier.serverKey.length).toBe(32);
  });

  it('reads the same verifier from bytes', () => {
    const fromBytes = parseScramVerifier(Buffer.from(POSTGRES_STYLE.verifier));
    const fromText = parseScramVerifier(POSTGRES_STYLE.verifier);
    expect(fromBytes.storedKey.equals(fromText.storedKey) && fromBytes.serverKey.equals(fromText.serverKey)).toBe(true);
  });

  const [storedB64, serverB64] = RFC7677.verifier.split('$')[2]?.split(':') ?? [];
  const malformed: Array<[string, string]> = [
    ['md5 secret', 'md5' + 'a'.repeat(32)],
    ['other hash', 'SCRAM-SHA-1$4096:W22ZaJ0SNY7soEsUEjb6gQ==$' + storedB64 + ':' + serverB64],
    ['no keys part', 'SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ=='],
    ['zero iterations', `SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$${storedB64}:${serverB64}`],
    ['leading zero', `SCRAM-SHA-256$04096:W22ZaJ0SNY7soEsUEjb6gQ==$${storedB64}:${serverB64}`],
    ['huge iterations', `SCRAM-SHA-256$99999999999:W22ZaJ0SNY7soEsUEjb6gQ==$${storedB64}:${serverB64}`],
    ['bad salt', `SCRAM-SHA-256$4096:W22Z!J0SNY7soEsUEjb6gQ==$${storedB64}:${serverB64}`],
    ['empty salt', `SCRAM-SHA-256$4096:$${storedB64}:${serverB64}`],
    ['short StoredKey', `SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAA:${serverB64}`],
    ['bad ServerKey', `SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$${storedB64}:${serverB64}x`],
    ['extra colon', `SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$${storedB64}:${serverB64}:x`],
    ['missing colon', `SCRAM-SHA-256$4096W22ZaJ0SNY7soEsUEjb6gQ==$${storedB64}:${serverB64}`],
  ];
  for (const [what, secret] of malformed) {
    it(`rejects ${what} without echoing it`, () => {
      let caught: unknown;
      try {
        parseScramVerifier(secret);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ScramVerifierError);
      const message = (caught as Error).message;
      expect(message.startsWith('invalid SCRAM-SHA-256 verifier: ')).toBe(true);
      for (const piece of [storedB64, serverB64, 'W22ZaJ0SNY7soEsUEjb6gQ'].filter((p): p is string => p !== undefined)) {
        expect(message.includes(piece)).toBe(false);
      }
    });
  }
});
