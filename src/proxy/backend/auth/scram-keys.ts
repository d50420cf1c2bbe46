import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

/** SHA-256 output length: every SCRAM-SHA-256 key, proof and signature has it. */
export const SCRAM_KEY_LENGTH = 32;

/** H() of RFC 5802. */
export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** HMAC() of RFC 5802. */
export function hmacSha256(key: Buffer, data: Buffer | string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** a XOR b, for two buffers of the same length. */
export function xorBytes(a: Buffer, b: Buffer): Buffer {
  if (a.length !== b.length) throw new RangeError(`xor of ${a.length} and ${b.length} bytes`);
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}

/** Constant-time equality; false (not an exception) for different lengths. */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Hi(password, salt, i) = PBKDF2-HMAC-SHA-256. Only needed where the router holds a real password
 * (its own auth role) or a test builds a verifier; a ClientKey login never runs it, which is what
 * makes it cheap.
 */
export function saltedPassword(password: Buffer, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(password, salt, iterations, SCRAM_KEY_LENGTH, 'sha256');
}

export function clientKeyFromSaltedPassword(salted: Buffer): Buffer {
  return hmacSha256(salted, 'Client Key');
}

export function serverKeyFromSaltedPassword(salted: Buffer): Buffer {
  return hmacSha256(salted, 'Server Key');
}

/** StoredKey = H(ClientKey). */
export function storedKeyFromClientKey(clientKey: Buffer): Buffer {
  return sha256(clientKey);
}
