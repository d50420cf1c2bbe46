import { hmacSha256, sameBytes, SCRAM_KEY_LENGTH, storedKeyFromClientKey, xorBytes } from './scram-keys.js';

/**
 * AuthMessage = client-first-message-bare "," server-first-message "," client-final-message-without-proof,
 * byte for byte as they travelled (RFC 5802 §3).
 */
export function authMessage(clientFirstBare: string, serverFirst: string, clientFinalWithoutProof: string): Buffer {
  return Buffer.from(`${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`, 'utf8');
}

/** ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage). */
export function clientProof(clientKey: Buffer, authMessageBytes: Buffer): Buffer {
  const signature = hmacSha256(storedKeyFromClientKey(clientKey), authMessageBytes);
  const proof = xorBytes(clientKey, signature);
  signature.fill(0);
  return proof;
}

/** ServerSignature = HMAC(ServerKey, AuthMessage). */
export function serverSignature(serverKey: Buffer, authMessageBytes: Buffer): Buffer {
  return hmacSha256(serverKey, authMessageBytes);
}

/**
 * What the server does with a proof, in reverse: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage),
 * accepted only when H(ClientKey) equals the StoredKey (compared in constant time). Returns the
 * ClientKey, or undefined for a wrong proof (its bytes are wiped).
 */
export function recoverClientKey(proof: Buffer, storedKey: Buffer, authMessageBytes: Buffer): Buffer | undefined {
  if (proof.length !== SCRAM_KEY_LENGTH || storedKey.length !== SCRAM_KEY_LENGTH) return undefined;
  const signature = hmacSha256(storedKey, authMessageBytes);
  const clientKey = xorBytes(proof, signature);
  signature.fill(0);
  if (clientKeyMatches(clientKey, storedKey)) return clientKey;
  clientKey.fill(0);
  return undefined;
}

/** H(ClientKey) == StoredKey, in constant time. */
export function clientKeyMatches(clientKey: Buffer, storedKey: Buffer): boolean {
  const candidate = storedKeyFromClientKey(clientKey);
  const same = sameBytes(candidate, storedKey);
  candidate.fill(0);
  return same;
}
