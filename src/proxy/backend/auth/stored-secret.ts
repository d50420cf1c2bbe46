import { isMd5Secret, Md5Hash } from './md5-password.js';
import { looksLikeScramVerifier, parseScramVerifier, ScramVerifier } from './scram-verifier.js';

/** A user's secret as pg_authid stores it, in a form the router can use. */
export type StoredSecret = ScramVerifier | Md5Hash;

export type StoredSecretReading =
  | { usable: true; secret: StoredSecret }
  /** `empty`: no password at all (rolpassword NULL); `unsupported`: neither SCRAM nor md5 (or malformed). */
  | { usable: false; reason: 'empty' | 'unsupported'; detail: string };

/**
 * Recognises a rolpassword value: a SCRAM-SHA-256 verifier or an md5 secret. Anything else
 * (plaintext cannot be stored since PostgreSQL 10) is unsupported. Details never echo the value.
 */
export function readStoredSecret(rolpassword: Buffer | null): StoredSecretReading {
  if (rolpassword === null || rolpassword.length === 0) return { usable: false, reason: 'empty', detail: 'the role has no password' };
  if (looksLikeScramVerifier(rolpassword)) {
    try {
      return { usable: true, secret: parseScramVerifier(rolpassword) };
    } catch (error) {
      return { usable: false, reason: 'unsupported', detail: (error as Error).message };
    }
  }
  if (isMd5Secret(rolpassword)) return { usable: true, secret: new Md5Hash(rolpassword) };
  return { usable: false, reason: 'unsupported', detail: 'the stored secret is neither a SCRAM-SHA-256 verifier nor an md5 hash' };
}
