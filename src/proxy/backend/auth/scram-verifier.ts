import { decodeBase64 } from './base64.js';
import { RedactedSecret, SecretWiped } from './redacted-secret.js';
import { SCRAM_KEY_LENGTH } from './scram-keys.js';

/** Why a stored secret is not a usable SCRAM-SHA-256 verifier. Never contains the secret. */
export class ScramVerifierError extends Error {
  constructor(readonly reason: string) {
    super(`invalid SCRAM-SHA-256 verifier: ${reason}`);
  }
}

/**
 * pg_authid.rolpassword for a SCRAM user:
 * `SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>`.
 * The router can check a proof with it, but cannot log in with it: that needs the ClientKey.
 */
export class ScramVerifier extends RedactedSecret {
  readonly kind = 'scram-verifier';
  readonly #salt: Buffer;
  readonly #storedKey: Buffer;
  readonly #serverKey: Buffer;
  #wiped = false;

  constructor(
    readonly iterations: number,
    salt: Buffer,
    storedKey: Buffer,
    serverKey: Buffer,
  ) {
    super();
    if (!Number.isInteger(iterations) || iterations < 1) throw new ScramVerifierError('iteration count must be a positive integer');
    if (salt.length === 0) throw new ScramVerifierError('empty salt');
    if (storedKey.length !== SCRAM_KEY_LENGTH || serverKey.length !== SCRAM_KEY_LENGTH) {
      throw new ScramVerifierError(`keys must be ${SCRAM_KEY_LENGTH} bytes`);
    }
    this.#salt = Buffer.from(salt);
    this.#storedKey = Buffer.from(storedKey);
    this.#serverKey = Buffer.from(serverKey);
  }

  get salt(): Buffer {
    return this.#use(this.#salt);
  }

  get storedKey(): Buffer {
    return this.#use(this.#storedKey);
  }

  get serverKey(): Buffer {
    return this.#use(this.#serverKey);
  }

  get wiped(): boolean {
    return this.#wiped;
  }

  /** An independent copy (its own buffers), for a session that wipes what it holds. */
  copy(): ScramVerifier {
    return new ScramVerifier(this.iterations, this.salt, this.storedKey, this.serverKey);
  }

  wipe(): void {
    this.#salt.fill(0);
    this.#storedKey.fill(0);
    this.#serverKey.fill(0);
    this.#wiped = true;
  }

  #use(bytes: Buffer): Buffer {
    if (this.#wiped) throw new SecretWiped('SCRAM verifier');
    return bytes;
  }
}

const PREFIX = Buffer.from('SCRAM-SHA-256$', 'latin1');

/** Whether a rolpassword value claims to be a SCRAM-SHA-256 verifier (it may still be malformed). */
export function looksLikeScramVerifier(secret: Buffer | string): boolean {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  return bytes.length >= PREFIX.length && bytes.subarray(0, PREFIX.length).equals(PREFIX);
}

/**
 * Parses a verifier as PostgreSQL stores it (parse_scram_secret). Takes bytes so a secret read
 * from the auth query need not become a string; errors say what is wrong, never what was there.
 */
export function parseScramVerifier(secret: Buffer | string): ScramVerifier {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (!looksLikeScramVerifier(bytes)) throw new ScramVerifierError('does not start with "SCRAM-SHA-256$"');
  const body = bytes.subarray(PREFIX.length);
  const dollar = body.indexOf(0x24); // '$'
  if (dollar < 0) throw new ScramVerifierError('expected "$" between the salt and the keys');
  const [iterationsPart, saltPart] = splitOnce(body.subarray(0, dollar), 'the iteration count and the salt');
  const [storedPart, serverPart] = splitOnce(body.subarray(dollar + 1), 'StoredKey and ServerKey');
  const iterationsText = iterationsPart.toString('latin1');
  if (!/^[1-9][0-9]{0,9}$/.test(iterationsText) || Number(iterationsText) > 0x7fffffff) {
    throw new ScramVerifierError('iteration count is not a positive 32-bit integer');
  }
  const salt = decodeBase64(saltPart);
  if (!salt || salt.length === 0) throw new ScramVerifierError('salt is not base64');
  const storedKey = decodeBase64(storedPart);
  const serverKey = decodeBase64(serverPart);
  try {
    if (!storedKey || storedKey.length !== SCRAM_KEY_LENGTH) throw new ScramVerifierError(`StoredKey is not ${SCRAM_KEY_LENGTH} bytes of base64`);
    if (!serverKey || serverKey.length !== SCRAM_KEY_LENGTH) throw new ScramVerifierError(`ServerKey is not ${SCRAM_KEY_LENGTH} bytes of base64`);
    return new ScramVerifier(Number(iterationsText), salt, storedKey, serverKey);
  } finally {
    storedKey?.fill(0);
    serverKey?.fill(0);
  }
}

function splitOnce(part: Buffer, what: string): [Buffer, Buffer] {
  const colon = part.indexOf(0x3a); // ':'
  if (colon < 0 || part.indexOf(0x3a, colon + 1) >= 0) throw new ScramVerifierError(`expected exactly one ":" between ${what}`);
  return [part.subarray(0, colon), part.subarray(colon + 1)];
}
