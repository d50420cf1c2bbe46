import { parseAuthRequest, MalformedAuthRequest } from '../../wire/auth-request.js';
import type { Frame } from '../../wire/frame-reader.js';
import { BackendCode, FrontendCode } from '../../wire/message-codes.js';
import { authenticationSasl } from '../../wire/serializer.js';
import type { AuthQueryResult } from './auth/auth-query.js';
import { mechanismsWithoutChannelBinding, SCRAM_SHA_256_PLUS } from './auth/channel-binding.js';
import { ScramObserver } from './auth/scram-observer.js';
import { Md5SessionSecret, PasswordSessionSecret, TrustSessionSecret, type SessionSecret } from './auth/session-secret.js';

/** How the session's connections look, and what it wants to learn from the login it relays. */
export interface LoginContext {
  user: string;
  /** The client's TLS ends at the router: with plain SCRAM offered, libpq sends the `y` flag. */
  clientTlsTerminated: boolean;
  /** The session may open more links, so it wants the user's secret. */
  learnSecret: boolean;
  /** The auth query for this user, when the router has one configured. */
  lookup?: () => Promise<AuthQueryResult>;
}

/** The secret the session may log in with elsewhere, or why it has none (and stays single-link). */
export type SecretOutcome = { secret: SessionSecret } | { none: string };

/** What to do with a member's Authentication message: pass these bytes on, or let the router answer SCRAM itself. */
export type AuthForward = { kind: 'relay'; bytes: Buffer } | { kind: 'bridge'; mechanisms: readonly string[] };

/**
 * Watches a login the router relays, in both directions, without judging it: it removes
 * SCRAM-SHA-256-PLUS from an offer when the client's TLS ends here (channel binding cannot
 * cross the router), says when the router must answer SCRAM itself instead (ScramBridge), and
 * learns what the session will need to log in to other members as the same user: the SCRAM
 * ClientKey (ScramObserver plus the verifier from auth_query), the md5 hash (auth_query), the
 * password the client sent (only over TLS), or nothing (trust).
 */
export class LoginWatch {
  private readonly observer = new ScramObserver();
  private method: 'trust' | 'scram' | 'md5' | 'password' | 'other' | undefined;
  private password: PasswordSessionSecret | undefined;
  private lookupStarted: Promise<AuthQueryResult> | undefined;

  constructor(private readonly context: LoginContext) {}

  /** A member's message during authentication (R, E, N, ...). */
  fromMember(frame: Frame): AuthForward {
    this.observer.fromServer(frame);
    if (frame.code !== BackendCode.Authentication) return { kind: 'relay', bytes: frame.raw };
    let request;
    try {
      request = parseAuthRequest(frame.body);
    } catch (error) {
      if (error instanceof MalformedAuthRequest) return { kind: 'relay', bytes: frame.raw };
      throw error;
    }
    if (this.method === undefined) this.method = firstMethod(request.kind);
    if (this.method === 'scram' || this.method === 'md5') this.startLookup();
    if (request.kind !== 'sasl' || !request.mechanisms.includes(SCRAM_SHA_256_PLUS)) return { kind: 'relay', bytes: frame.raw };
    // The member offers channel binding: it is reached over TLS. Channel binding cannot cross the
    // router: a plain client refuses the offer outright ("SCRAM-SHA-256-PLUS over a non-SSL
    // connection"), a client whose TLS ends here would bind to the router's certificate, or,
    // offered plain SCRAM only, send `y`, which the member must refuse as a downgrade: then the
    // router answers SCRAM itself, when it can look the verifier up.
    if (this.context.clientTlsTerminated && this.context.lookup !== undefined) return { kind: 'bridge', mechanisms: request.mechanisms };
    return { kind: 'relay', bytes: authenticationSasl(mechanismsWithoutChannelBinding(request.mechanisms)) };
  }

  /** A client's message during authentication (PasswordMessage, SASL responses). */
  fromClient(frame: Frame): void {
    if (frame.code !== FrontendCode.Password) return;
    this.observer.fromClient(frame);
    // A cleartext password is kept only over TLS: in plain text it crossed the network anyway, but
    // the router will not make a habit of holding what it was not trusted with.
    if (this.method === 'password' && this.context.learnSecret && this.context.clientTlsTerminated && this.password === undefined) {
      const end = frame.body.indexOf(0);
      this.password = new PasswordSessionSecret(frame.body.subarray(0, end < 0 ? frame.body.length : end));
    }
  }

  /** After AuthenticationOk: the secret for more links, or why there is none. */
  async secret(): Promise<SecretOutcome> {
    if (!this.context.learnSecret) return { none: 'this listener opens no more links' };
    switch (this.method) {
      case 'trust':
        return { secret: new TrustSessionSecret() };
      case 'password':
        return this.password !== undefined ? { secret: this.password } : { none: 'a cleartext password login is kept only over TLS' };
      case 'md5': {
        const found = await this.lookedUp();
        if ('none' in found) return found;
        if (found.result.secret.kind !== 'md5-hash') return this.dropped(found.result, 'auth_query returned no md5 hash for an md5 login');
        const secret = new Md5SessionSecret(found.result.secret);
        found.result.secret.wipe();
        return { secret };
      }
      case 'scram': {
        const observation = this.observer.observation;
        if (observation.status === 'not-extractable') return { none: observation.detail };
        const found = await this.lookedUp();
        if ('none' in found) return found;
        if (found.result.secret.kind !== 'scram-verifier') return this.dropped(found.result, 'auth_query returned no SCRAM verifier for a SCRAM login');
        const extracted = this.observer.extract(found.result.secret);
        found.result.secret.wipe();
        this.observer.wipe();
        return extracted.ok ? { secret: extracted.secret } : { none: extracted.detail };
      }
      default:
        return { none: 'the login used a method the router cannot repeat (GSSAPI, SSPI, certificate, ...)' };
    }
  }

  /** Forgets what it held (the session ends before the secret was taken). */
  wipe(): void {
    this.observer.wipe();
    this.password?.wipe();
  }

  private startLookup(): void {
    if (this.lookupStarted === undefined && this.context.learnSecret && this.context.lookup !== undefined) {
      this.lookupStarted = this.context.lookup();
      // Read later (or never, if the login fails): never an unhandled rejection.
      this.lookupStarted.catch(() => undefined);
    }
  }

  private async lookedUp(): Promise<{ result: AuthQueryResult & { usable: true } } | { none: string }> {
    if (this.lookupStarted === undefined) return { none: 'no auth_query is configured (auth:), so the router cannot log in as this user elsewhere' };
    let result: AuthQueryResult;
    try {
      result = await this.lookupStarted;
    } catch (error) {
      return { none: `the auth query failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    return result.usable ? { result } : { none: `auth_query: ${result.detail}` };
  }

  private dropped(result: AuthQueryResult & { usable: true }, why: string): SecretOutcome {
    result.secret.wipe();
    return { none: why };
  }
}

function firstMethod(kind: ReturnType<typeof parseAuthRequest>['kind']): LoginWatch['method'] {
  switch (kind) {
    case 'ok':
      return 'trust';
    case 'sasl':
      return 'scram';
    case 'md5-password':
      return 'md5';
    case 'cleartext-password':
      return 'password';
    default:
      return 'other';
  }
}
