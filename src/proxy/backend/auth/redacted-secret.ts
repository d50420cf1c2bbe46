import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

/** Thrown when a wiped secret is used: its bytes are zeros now, and zeros must never reach a member. */
export class SecretWiped extends Error {
  constructor(what: string) {
    super(`${what} was wiped and cannot be used`);
  }
}

/**
 * Base of every object that holds key material. The bytes live in ES private fields of the
 * subclasses (invisible to util.inspect, Object.keys, spreading and structuredClone), and the
 * object prints as `[redacted]` through JSON (pino, JSON.stringify) and util.inspect
 * (console.log, %o), so a secret cannot reach a log line by being logged whole.
 */
export abstract class RedactedSecret {
  /** What the secret is, safe to print: e.g. 'scram'. */
  abstract readonly kind: string;

  /** Zero-fills the key material; any later use throws SecretWiped. */
  abstract wipe(): void;

  abstract get wiped(): boolean;

  toJSON(): { kind: string; secret: string } {
    return { kind: this.kind, secret: REDACTED };
  }

  toString(): string {
    return `${this.constructor.name} ${REDACTED}`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
