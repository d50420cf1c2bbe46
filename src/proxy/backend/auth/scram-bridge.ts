import type { AuthRequest } from '../../../wire/auth-request.js';
import { AuthCode } from '../../../wire/message-codes.js';
import { parseSaslInitialResponse } from '../../../wire/parser.js';
import { authentication, authenticationSasl, saslInitialResponse, saslResponse, type ErrorFields } from '../../../wire/serializer.js';
import type { AuthQueryResult } from './auth-query.js';
import { ScramClient, ScramClientError } from './scram-client.js';
import { ScramServer, ScramServerError } from './scram-server.js';
import type { ScramVerifier } from './scram-verifier.js';
import type { ScramSessionSecret } from './session-secret.js';

/** What one step of the bridge writes, to whom, or that the login ends with a FATAL. */
export interface BridgeStep {
  toClient?: Buffer;
  toMember?: Buffer;
  refuse?: ErrorFields & { severity: 'FATAL' };
}

/** PostgreSQL's own words for a failed password login (auth.c). */
function passwordFailed(user: string): ErrorFields & { severity: 'FATAL' } {
  return { severity: 'FATAL', code: '28P01', message: `password authentication failed for user "${user}"` };
}

type Phase = 'offered' | 'client-first' | 'client-final' | 'member-first' | 'member-final' | 'member-ok' | 'done' | 'failed';

/**
 * SCRAM between a client and a member with the router in the middle as both ends: the router
 * is the SCRAM server to the client (ScramServer, from the user's verifier) and the SCRAM
 * client to the member (ScramClient, from the ClientKey it recovers). Used only where a relay
 * cannot work: the client's TLS ends at the router and the member's link is TLS, so a client
 * with libpq's default channel_binding=prefer sends the `y` flag, which the member refuses.
 * The member still judges the login (pg_hba, VALID UNTIL, LOGIN) and its refusal is relayed.
 */
export class ScramBridge {
  private phase: Phase = 'offered';
  private server: ScramServer | undefined;
  private client: ScramClient | undefined;
  private serverFinal: Buffer | undefined;
  private secretHeld: ScramSessionSecret | undefined;
  private verifier: ScramVerifier | undefined;

  constructor(
    private readonly user: string,
    private readonly memberMechanisms: readonly string[],
    private readonly lookup: () => Promise<AuthQueryResult>,
  ) {}

  /** The offer the client gets in place of the member's: plain SCRAM-SHA-256. */
  offer(): Buffer {
    return authenticationSasl(ScramServer.mechanisms());
  }

  /** The client's SASLInitialResponse: the router looks up the verifier and answers server-first. */
  async clientFirst(body: Buffer): Promise<BridgeStep> {
    this.expect('offered');
    const initial = parseSaslInitialResponse(body);
    if (initial?.data === undefined) return this.fail({ severity: 'FATAL', code: '08P01', message: 'malformed SASLInitialResponse' });
    let found: AuthQueryResult;
    try {
      found = await this.lookup();
    } catch {
      // The reason (auth role, connection) is in the router's log; the client learns only this.
      return this.fail({ severity: 'FATAL', code: '08006', message: `patroni-router could not look up the SCRAM verifier of user "${this.user}" (see the router's log)` });
    }
    if (!found.usable) {
      if (found.reason === 'no-login') return this.fail({ severity: 'FATAL', code: '28000', message: `role "${this.user}" is not permitted to log in` });
      return this.fail(passwordFailed(this.user));
    }
    if (found.secret.kind !== 'scram-verifier') {
      found.secret.wipe();
      return this.fail(passwordFailed(this.user));
    }
    // The lookup handed over its own copy: the bridge keeps it and wipes it when done.
    this.verifier = found.secret;
    this.server = new ScramServer(found.secret);
    try {
      const serverFirst = this.server.first(initial.mechanism, initial.data);
      this.phase = 'client-final';
      return { toClient: authentication(AuthCode.SASLContinue, serverFirst) };
    } catch (error) {
      if (error instanceof ScramServerError)
        return this.fail(error.reason === 'malformed' ? { severity: 'FATAL', code: '08P01', message: error.message } : passwordFailed(this.user));
      throw error;
    }
  }

  /** The client's SASLResponse: its proof checked, the ClientKey recovered, the member's login begun. */
  clientFinal(body: Buffer): BridgeStep {
    this.expect('client-final');
    let recovered;
    try {
      recovered = (this.server as ScramServer).final(body);
    } catch (error) {
      if (error instanceof ScramServerError)
        return this.fail(error.reason === 'malformed' ? { severity: 'FATAL', code: '08P01', message: error.message } : passwordFailed(this.user));
      throw error;
    }
    this.secretHeld = recovered.secret;
    this.serverFinal = recovered.serverFinal;
    this.verifier?.wipe();
    this.verifier = undefined;
    this.client = new ScramClient(recovered.secret);
    const start = this.client.start(this.memberMechanisms);
    this.phase = 'member-first';
    return { toMember: saslInitialResponse(start.mechanism, start.data) };
  }

  /** The member's next Authentication message, during the router's own login. */
  memberAuth(request: AuthRequest): BridgeStep {
    const client = this.client as ScramClient;
    try {
      if (this.phase === 'member-first' && request.kind === 'sasl-continue') {
        this.phase = 'member-final';
        return { toMember: saslResponse(client.respond(request.data)) };
      }
      if (this.phase === 'member-final' && request.kind === 'sasl-final') {
        client.verify(request.data);
        this.phase = 'member-ok';
        return {};
      }
      if (this.phase === 'member-ok' && request.kind === 'ok') {
        this.phase = 'done';
        // The client hears the router's own server-final (it checks the signature of the verifier it knows).
        return { toClient: authentication(AuthCode.SASLFinal, this.serverFinal as Buffer) };
      }
    } catch (error) {
      // Another salt than the verifier's: the password changed since the lookup, or PostgreSQL is
      // running its mock exchange for a role that may not log in (expired, dropped). Either way
      // PostgreSQL's own answer to the client would be this.
      if (error instanceof ScramClientError && error.reason === 'other-verifier') return this.fail(passwordFailed(this.user));
      if (error instanceof ScramClientError)
        return this.fail({ severity: 'FATAL', code: '28000', message: `patroni-router could not log in to the member as "${this.user}": ${error.message}` });
      throw error;
    }
    return this.fail({ severity: 'FATAL', code: '08P01', message: `the member answered the router's SCRAM login with ${request.kind}` });
  }

  /** Once done: the ClientKey, for more links (the caller owns and wipes it). */
  takeSecret(): ScramSessionSecret | undefined {
    const secret = this.phase === 'done' ? this.secretHeld : undefined;
    this.secretHeld = undefined;
    return secret;
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** The next client message is its SASLInitialResponse. */
  get awaitingClientFirst(): boolean {
    return this.phase === 'offered';
  }

  /** Forgets everything (the session ends, or the login failed). */
  wipe(): void {
    this.verifier?.wipe();
    this.verifier = undefined;
    this.secretHeld?.wipe();
    this.secretHeld = undefined;
    this.serverFinal?.fill(0);
  }

  private expect(phase: Phase): void {
    if (this.phase !== phase) throw new Error(`SCRAM bridge step out of order (at ${this.phase}, expected ${phase})`);
  }

  private fail(refuse: ErrorFields & { severity: 'FATAL' }): BridgeStep {
    this.phase = 'failed';
    this.wipe();
    return { refuse };
  }
}
