import { randomBytes } from 'node:crypto';
import { SCRAM_SHA_256 } from './channel-binding.js';
import { saslprepPassword } from './saslprep.js';
import { clientKeyFromSaltedPassword, saltedPassword, sameBytes, serverKeyFromSaltedPassword } from './scram-keys.js';
import {
  buildClientFinalMessage,
  buildClientFinalWithoutProof,
  buildClientFirstMessage,
  parseServerFinalMessage,
  parseServerFirstMessage,
  scramText,
  ScramMessageError,
  type ClientFirstMessage,
} from './scram-messages.js';
import { authMessage, clientProof, serverSignature } from './scram-proof.js';
import type { PasswordSessionSecret, ScramSessionSecret } from './session-secret.js';

export type ScramClientFailure =
  | 'no-scram-offered'
  | 'malformed'
  | 'out-of-order'
  /** The member's salt or iteration count is not the verifier's the key came from. */
  | 'other-verifier'
  | 'iterations-too-high'
  | 'server-error'
  /** The member did not prove it knows the ServerKey. */
  | 'server-not-verified';

export class ScramClientError extends Error {
  constructor(
    readonly reason: ScramClientFailure,
    message: string,
  ) {
    super(message);
  }
}

/** node-postgres' bound, for a password login: PBKDF2 runs on the event loop. */
export const DEFAULT_MAX_ITERATIONS = 100_000;

export interface ScramClientOptions {
  /** Tests only: a fixed client nonce. Default: 18 random bytes in base64, as libpq. */
  nonce?: string;
  /** Refuse a server-first-message asking for more PBKDF2 rounds (password logins only). */
  maxIterations?: number;
}

type Phase = 'start' | 'server-first' | 'server-final' | 'verified' | 'failed';

/**
 * The client side of SCRAM-SHA-256 without channel binding, as a pure state machine: SASL payloads
 * in, SASL payloads out, no socket. With a ScramSessionSecret it logs in from the ClientKey alone
 * (no PBKDF2, no password); with a password it derives the keys as libpq does. Either way the
 * login only counts once the server-final signature proves the member knows the ServerKey.
 */
export class ScramClient {
  private phase: Phase = 'start';
  private first: ClientFirstMessage | undefined;
  private expectedSignature: Buffer | undefined;
  private readonly nonce: string;
  private readonly maxIterations: number;

  constructor(
    private readonly credential: ScramSessionSecret | PasswordSessionSecret,
    options: ScramClientOptions = {},
  ) {
    this.nonce = options.nonce ?? randomBytes(18).toString('base64');
    this.maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  }

  get serverVerified(): boolean {
    return this.phase === 'verified';
  }

  /** Picks SCRAM-SHA-256 from the offer (never -PLUS: the router does no channel binding). */
  start(offered: readonly string[]): { mechanism: string; data: Buffer } {
    this.expect('start');
    if (!offered.includes(SCRAM_SHA_256)) {
      throw this.fail('no-scram-offered', `the server offers ${offered.join(', ') || 'nothing'}, not ${SCRAM_SHA_256}`);
    }
    // Empty user name, as libpq: PostgreSQL takes the user from the startup packet.
    const first = buildClientFirstMessage({ nonce: this.nonce });
    this.first = first;
    this.phase = 'server-first';
    return { mechanism: SCRAM_SHA_256, data: Buffer.from(first.text, 'utf8') };
  }

  /** server-first-message in, client-final-message out. */
  respond(serverFirstData: Buffer): Buffer {
    this.expect('server-first');
    const first = this.first as ClientFirstMessage;
    const server = this.parse(() => parseServerFirstMessage(scramText(serverFirstData, 'server-first-message'), first.nonce));
    const keys = this.keysFor(server.salt, server.iterations);
    try {
      const withoutProof = buildClientFinalWithoutProof({ gs2Header: first.gs2Header, nonce: server.nonce });
      const message = authMessage(first.bare, server.text, withoutProof);
      const proof = clientProof(keys.clientKey, message);
      this.expectedSignature = serverSignature(keys.serverKey, message);
      this.phase = 'server-final';
      const final = Buffer.from(buildClientFinalMessage(withoutProof, proof), 'utf8');
      proof.fill(0);
      return final;
    } finally {
      keys.wipe();
    }
  }

  /** server-final-message in; throws unless its signature is the one the ServerKey gives. */
  verify(serverFinalData: Buffer): void {
    this.expect('server-final');
    const final = this.parse(() => parseServerFinalMessage(scramText(serverFinalData, 'server-final-message')));
    if (final.kind === 'error') throw this.fail('server-error', `the server ended SCRAM with error "${final.error}"`);
    const expected = this.expectedSignature as Buffer;
    if (!sameBytes(final.signature, expected)) {
      throw this.fail('server-not-verified', 'the server signature is wrong: the server does not know the ServerKey');
    }
    this.phase = 'verified';
  }

  private keysFor(salt: Buffer, iterations: number): { clientKey: Buffer; serverKey: Buffer; wipe(): void } {
    const credential = this.credential;
    if (credential.kind === 'scram') {
      if (!sameBytes(salt, credential.salt) || iterations !== credential.iterations) {
        throw this.fail(
          'other-verifier',
          "the server's SCRAM salt or iteration count differs from the verifier the key was taken from: the password changed, or this server has another verifier",
        );
      }
      // The session's own buffers: nothing to wipe here, the session wipes them when it ends.
      return { clientKey: credential.clientKey, serverKey: credential.serverKey, wipe: () => undefined };
    }
    if (iterations > this.maxIterations) {
      throw this.fail('iterations-too-high', `the server asks for ${iterations} PBKDF2 iterations, more than the limit of ${this.maxIterations}`);
    }
    const prepared = saslprepPassword(credential.password);
    const salted = saltedPassword(prepared, salt, iterations);
    prepared.fill(0);
    const clientKey = clientKeyFromSaltedPassword(salted);
    const serverKey = serverKeyFromSaltedPassword(salted);
    salted.fill(0);
    return {
      clientKey,
      serverKey,
      wipe: () => {
        clientKey.fill(0);
        serverKey.fill(0);
      },
    };
  }

  private parse<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (error instanceof ScramMessageError) throw this.fail('malformed', error.message);
      throw error;
    }
  }

  private expect(phase: Phase): void {
    if (this.phase !== phase) throw this.fail('out-of-order', `SCRAM message out of order: expected ${phase}, at ${this.phase}`);
  }

  private fail(reason: ScramClientFailure, message: string): ScramClientError {
    this.phase = 'failed';
    this.expectedSignature = undefined;
    return new ScramClientError(reason, message);
  }
}
