import { describe, expect, it } from 'vitest';
import { authMessage, clientKeyMatches, clientProof, recoverClientKey, serverSignature } from '../../../../../src/proxy/backend/auth/scram-proof.js';
import { clientKeyFromSaltedPassword, saltedPassword, serverKeyFromSaltedPassword, storedKeyFromClientKey } from '../../../../../src/proxy/backend/auth/scram-keys.js';
import { parseScramVerifier } from '../../../../../src/proxy/backend/auth/scram-verifier.js';
import { expectSameBytes, VECTORS } from './scram-vectors.js';

describe.each(VECTORS)('SCRAM arithmetic on the $name exchange', (vector) => {
  const verifier = parseScramVerifier(vector.verifier);
  const bare = vector.clientFirst.slice(vector.clientFirst.indexOf(',', vector.clientFirst.indexOf(',') + 1) + 1);
  const withoutProof = vector.clientFinal.slice(0, vector.clientFinal.indexOf(',p='));
  const message = authMessage(bare, vector.serverFirst, withoutProof);
  const proof = Buffer.from(vector.clientFinal.slice(vector.clientFinal.indexOf(',p=') + 3), 'base64');
  const clientKey = Buffer.from(vector.clientKeyHex, 'hex');

  it('derives the verifier from the password', () => {
    const salted = saltedPassword(Buffer.from(vector.password), verifier.salt, verifier.iterations);
    expectSameBytes(clientKeyFromSaltedPassword(salted), clientKey, 'ClientKey');
    expectSameBytes(storedKeyFromClientKey(clientKey), verifier.storedKey, 'StoredKey');
    expectSameBytes(serverKeyFromSaltedPassword(salted), verifier.serverKey, 'ServerKey');
  });

  it('computes the proof and the server signature of the vector', () => {
    expectSameBytes(clientProof(clientKey, message), proof, 'ClientProof');
    expect(`v=${serverSignature(verifier.serverKey, message).toString('base64')}`).toBe(vector.serverFinal);
  });

  it('recovers the ClientKey from the proof and the StoredKey', () => {
    const recovered = recoverClientKey(proof, verifier.storedKey, message);
    expect(recovered).toBeDefined();
    expectSameBytes(recovered ?? Buffer.alloc(0), clientKey, 'recovered ClientKey');
  });

  it('recovers nothing from a wrong proof, a wrong StoredKey or another AuthMessage', () => {
    const wrong = Buffer.from(proof);
    wrong[31] = (wrong[31] as number) ^ 0x80;
    expect(recoverClientKey(wrong, verifier.storedKey, message)).toBeUndefined();
    expect(recoverClientKey(proof, Buffer.alloc(32, 1), message)).toBeUndefined();
    expect(recoverClientKey(proof, verifier.storedKey, Buffer.concat([message, Buffer.from('x')]))).toBeUndefined();
    expect(recoverClientKey(proof.subarray(0, 31), verifier.storedKey, message)).toBeUndefined();
    expect(clientKeyMatches(Buffer.alloc(32), verifier.storedKey)).toBe(false);
  });
});
