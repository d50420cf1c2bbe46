import { createHash } from 'node:crypto';
import { RedactedSecret, SecretWiped } from './redacted-secret.js';

const MD5_PREFIX = Buffer.from('md5', 'latin1');
/** `md5` + 32 lowercase hex digits, as PostgreSQL stores and as it expects the response. */
const MD5_SECRET_LENGTH = 35;

function isLowerHex(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66);
}

/** Whether a rolpassword value is an md5 secret (PostgreSQL's get_password_type rule). */
export function isMd5Secret(secret: Buffer | string): boolean {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'latin1') : secret;
  if (bytes.length !== MD5_SECRET_LENGTH || !bytes.subarray(0, 3).equals(MD5_PREFIX)) return false;
  for (let i = 3; i < bytes.length; i++) if (!isLowerHex(bytes[i] as number)) return false;
  return true;
}

/**
 * A user's stored md5 secret, `md5` + md5hex(password + username). Unlike a SCRAM verifier it is
 * password-equivalent: whoever holds it can log in as the user. Only its 32 hex digits are kept.
 */
export class Md5Hash extends RedactedSecret {
  readonly kind = 'md5-hash';
  readonly #hex: Buffer;
  #wiped = false;

  /** From the stored secret with its `md5` prefix; throws (without echoing it) when it is not one. */
  constructor(storedSecret: Buffer) {
    super();
    if (!isMd5Secret(storedSecret)) throw new Error('not an md5 secret: expected "md5" and 32 lowercase hex digits');
    this.#hex = Buffer.from(storedSecret.subarray(3));
  }

  /** The 32 hex digits without the prefix, as bytes. */
  get hex(): Buffer {
    if (this.#wiped) throw new SecretWiped('md5 hash');
    return this.#hex;
  }

  get wiped(): boolean {
    return this.#wiped;
  }

  copy(): Md5Hash {
    const stored = Buffer.concat([MD5_PREFIX, this.hex]);
    try {
      return new Md5Hash(stored);
    } finally {
      stored.fill(0);
    }
  }

  wipe(): void {
    this.#hex.fill(0);
    this.#wiped = true;
  }
}

function md5Hex(parts: Buffer[]): Buffer {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return Buffer.from(hash.digest('hex'), 'latin1');
}

/** The stored form from a password: md5hex(password + username), 32 hex digits as bytes. */
export function md5HashOfPassword(password: Buffer, user: string): Buffer {
  return md5Hex([password, Buffer.from(user, 'utf8')]);
}

/**
 * The PasswordMessage payload answering AuthenticationMD5Password: `md5` + md5hex(hex + salt),
 * where hex is the stored hash without its prefix. 35 bytes, in a fresh buffer the caller wipes.
 */
export function md5Response(hashHex: Buffer, salt: Buffer): Buffer {
  if (hashHex.length !== 32) throw new RangeError('an md5 hash is 32 hex digits');
  if (salt.length !== 4) throw new RangeError('an md5 salt is 4 bytes');
  return Buffer.concat([MD5_PREFIX, md5Hex([hashHex, salt])]);
}
