import type { AuthRequest } from '../../../wire/auth-request.js';
import { passwordMessage, saslInitialResponse, saslResponse } from '../../../wire/serializer.js';
import { md5HashOfPassword, md5Response } from './md5-password.js';
import { ScramClient, ScramClientError, type ScramClientOptions } from './scram-client.js';
import type { SessionSecret } from './session-secret.js';

export type LoginFailure =
  /** The member asks for a method this secret cannot answer (e.g. md5 with a SCRAM key). */
  | 'method-mismatch'
  /** GSSAPI, SSPI, Kerberos: cannot be answered on someone else's behalf. */
  | 'unsupported-method'
  /** The member let the user in without proving it knows the SCRAM ServerKey. */
  | 'server-not-verified'
  | 'protocol'
  | `scram-${ScramClientError['reason']}`;

/** Why the router gives up a login; the message names the method, never the secret. */
export class LoginError extends Error {
  constructor(
    readonly reason: LoginFailure,
    message: string,
  ) {
    super(message);
  }
}

export type LoginStep =
  /** Write this message (a fresh buffer: zero-fill it once written). */
  | { kind: 'send'; message: Buffer }
  /** Nothing to answer; read the next message. */
  | { kind: 'wait' }
  /** AuthenticationOk arrived and is acceptable: read on until ReadyForQuery. */
  | { kind: 'authenticated' };

/**
 * Answers a member's authentication requests as the session's user, with what the session holds:
 * a SCRAM ClientKey, an md5 hash, a password, or nothing (trust). Pure: the backend link feeds it
 * each parsed 'R' message and writes what it returns; PostgreSQL decides whether the login works.
 */
export class MemberLogin {
  private scram: ScramClient | undefined;

  constructor(
    private readonly secret: SessionSecret,
    /** The user of the startup packet (the md5 hash of a password is salted with it). */
    private readonly user: string,
    private readonly scramOptions: ScramClientOptions = {},
  ) {}

  respond(request: AuthRequest): LoginStep {
    const secret = this.secret;
    switch (request.kind) {
      case 'ok':
        // SCRAM authenticates the server too: with a SCRAM key, an Ok that did not follow a
        // verified server-final means whoever answers never proved it knows the ServerKey.
        if (secret.kind === 'scram' && !this.scram?.serverVerified) {
          throw new LoginError('server-not-verified', 'the server accepted the login without proving it knows the SCRAM ServerKey');
        }
        if (this.scram && !this.scram.serverVerified) {
          throw new LoginError('server-not-verified', 'the server sent AuthenticationOk before completing SCRAM');
        }
        return { kind: 'authenticated' };
      case 'cleartext-password':
        if (secret.kind !== 'password') throw this.mismatch('a cleartext password');
        return { kind: 'send', message: passwordMessage(secret.password) };
      case 'md5-password': {
        if (secret.kind === 'md5') return { kind: 'send', message: this.md5Message(secret.hash.hex, request.salt) };
        if (secret.kind !== 'password') throw this.mismatch('md5');
        const hash = md5HashOfPassword(secret.password, this.user);
        try {
          return { kind: 'send', message: this.md5Message(hash, request.salt) };
        } finally {
          hash.fill(0);
        }
      }
      case 'sasl': {
        if (secret.kind !== 'scram' && secret.kind !== 'password') throw this.mismatch('SASL (SCRAM-SHA-256)');
        if (this.scram) throw new LoginError('protocol', 'the server started SASL twice');
        this.scram = new ScramClient(secret, this.scramOptions);
        const initial = this.scramStep(() => this.started().start(request.mechanisms));
        return { kind: 'send', message: saslInitialResponse(initial.mechanism, initial.data) };
      }
      case 'sasl-continue':
        return { kind: 'send', message: saslResponse(this.scramStep(() => this.started().respond(request.data))) };
      case 'sasl-final':
        this.scramStep(() => this.started().verify(request.data));
        return { kind: 'wait' };
      case 'unsupported':
        throw new LoginError(
          'unsupported-method',
          `the server asks for authentication method ${request.code} (GSSAPI, SSPI or Kerberos), which the router cannot answer for a user`,
        );
    }
  }

  private md5Message(hashHex: Buffer, salt: Buffer): Buffer {
    const response = md5Response(hashHex, salt);
    try {
      return passwordMessage(response);
    } finally {
      response.fill(0);
    }
  }

  private started(): ScramClient {
    if (!this.scram) throw new LoginError('protocol', 'SASL message before AuthenticationSASL');
    return this.scram;
  }

  private scramStep<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      if (error instanceof ScramClientError) throw new LoginError(`scram-${error.reason}`, error.message);
      throw error;
    }
  }

  private mismatch(asked: string): LoginError {
    const held = { scram: 'a SCRAM key', md5: 'an md5 hash', trust: 'no secret (trust)', password: 'a password' }[this.secret.kind];
    return new LoginError('method-mismatch', `the server asks for ${asked}, but the router holds ${held} for this user`);
  }
}
