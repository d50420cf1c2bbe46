import { Md5Hash } from './md5-password.js';
import { RedactedSecret, SecretWiped } from './redacted-secret.js';
import { SCRAM_KEY_LENGTH } from './scram-keys.js';

/**
 * What the router may use to log in to a member as this session's user, for as long as the
 * session lives: kept in memory only, wiped when the session ends, printed as `[redacted]`.
 */
export type SessionSecret = ScramSessionSecret | Md5SessionSecret | TrustSessionSecret | PasswordSessionSecret;

/**
 * The ClientKey recovered from the client's own proof, with what the verifier said: the ServerKey
 * (to check that a member knows it) and the salt and iteration count (a member whose differ has
 * another verifier, so the key cannot work there).
 */
export class ScramSessionSecret extends RedactedSecret {
  readonly kind = 'scram';
  readonly #clientKey: Buffer;
  readonly #serverKey: Buffer;
  readonly #salt: Buffer;
  #wiped = false;

  constructor(
    clientKey: Buffer,
    serverKey: Buffer,
    salt: Buffer,
    readonly iterations: number,
  ) {
    super();
    if (clientKey.length !== SCRAM_KEY_LENGTH || serverKey.length !== SCRAM_KEY_LENGTH) {
      throw new RangeError(`SCRAM keys are ${SCRAM_KEY_LENGTH} bytes`);
    }
    this.#clientKey = Buffer.from(clientKey);
    this.#serverKey = Buffer.from(serverKey);
    this.#salt = Buffer.from(salt);
  }

  get clientKey(): Buffer {
    return this.#use(this.#clientKey);
  }

  get serverKey(): Buffer {
    return this.#use(this.#serverKey);
  }

  get salt(): Buffer {
    return this.#use(this.#salt);
  }

  get wiped(): boolean {
    return this.#wiped;
  }

  wipe(): void {
    this.#clientKey.fill(0);
    this.#serverKey.fill(0);
    this.#salt.fill(0);
    this.#wiped = true;
  }

  #use(bytes: Buffer): Buffer {
    if (this.#wiped) throw new SecretWiped('SCRAM session secret');
    return bytes;
  }
}

/** The user's stored md5 hash (from the auth query): answers any member's md5 challenge. */
export class Md5SessionSecret extends RedactedSecret {
  readonly kind = 'md5';
  readonly #hash: Md5Hash;

  /** Takes its own copy of `hash`; the caller keeps (and wipes) the one it passed. */
  constructor(hash: Md5Hash) {
    super();
    this.#hash = hash.copy();
  }

  get hash(): Md5Hash {
    if (this.#hash.wiped) throw new SecretWiped('md5 session secret');
    return this.#hash;
  }

  get wiped(): boolean {
    return this.#hash.wiped;
  }

  wipe(): void {
    this.#hash.wipe();
  }
}

/** Nothing to send: the member's pg_hba says `trust` for this user. */
export class TrustSessionSecret extends RedactedSecret {
  readonly kind = 'trust';

  get wiped(): boolean {
    return false;
  }

  wipe(): void {
    // nothing held
  }
}

/**
 * A cleartext password: the router's own auth role (from its configuration), or what a client
 * sent when its member asked for one.
 */
export class PasswordSessionSecret extends RedactedSecret {
  readonly kind = 'password';
  readonly #password: Buffer;
  #wiped = false;

  constructor(password: Buffer | string) {
    super();
    this.#password = typeof password === 'string' ? Buffer.from(password, 'utf8') : Buffer.from(password);
  }

  /** UTF-8 bytes of the password. */
  get password(): Buffer {
    if (this.#wiped) throw new SecretWiped('password');
    return this.#password;
  }

  get wiped(): boolean {
    return this.#wiped;
  }

  wipe(): void {
    this.#password.fill(0);
    this.#wiped = true;
  }
}
