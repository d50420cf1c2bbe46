import { randomBytes } from 'node:crypto';
import { SCRAM_SHA_256 } from './channel-binding.js';
import {
  buildServerFinalMessage,
  buildServerFirstMessage,
  parseClientFinalMessage,
  parseClientFirstMessage,
  scramText,
  ScramMessageError,
  type ClientFirstMessage,
} from './scram-messages.js';
import { authMessage, recoverClientKey, serverSignature } from './scram-proof.js';
import type { ScramVerifier } from './scram-verifier.js';
import { ScramSessionSecret } from './session-secret.js';

export type ScramServerFailure = 'malformed' | 'out-of-order' | 'channel-binding' | 'wrong-proof';

/** The login failed; `reason` says how. PostgreSQL answers every one of these with 28P01 or 08P01. */
export class ScramServerError extends Error {
  constructor(
    readonly reason: ScramServerFailure,
    message: string,
  ) {
    super(message);
  }
}

type Phase = 'first' | 'final' | 'done' | 'failed';

/**
 * The server side of SCRAM-SHA-256, from the user's verifier, as a pure state machine (SASL
 * payloads in and out). The router plays it only where relaying cannot work: the client's TLS
 * ends at the router and the router's link to the member is TLS too, so libpq's default
 * channel_binding=prefer sends the `y` flag, which a member reached over TLS must refuse as a
 * downgrade. The router checks the client's proof as PostgreSQL would, recovers the ClientKey,
 * and PostgreSQL still judges the login the router then makes with it (pg_hba, VALID UNTIL,
 * LOGIN): the router never lets in anyone the member would not.
 */
export class ScramServer {
  private phase: Phase = 'first';
  private clientFirst: ClientFirstMessage | undefined;
  private serverFirst: string | undefined;
  private readonly nonce: string;

  constructor(
    private readonly verifier: ScramVerifier,
    options: { nonce?: string } = {},
  ) {
    this.nonce = options.nonce ?? randomBytes(18).toString('base64');
  }

  /** The mechanisms to offer: no -PLUS, the router does no channel binding. */
  static mechanisms(): string[] {
    return [SCRAM_SHA_256];
  }

  /** SASLInitialResponse (mechanism, client-first) in, server-first out. */
  first(mechanism: string, data: Buffer): Buffer {
    this.expect('first');
    if (mechanism !== SCRAM_SHA_256) throw this.fail('channel-binding', `client selected ${mechanism}, which was not offered`);
    const client = this.parse(() => parseClientFirstMessage(scramText(data, 'client-first-message')));
    // 'y' is fine here: the router offered no channel binding. 'p' asks for what was not offered.
    if (client.channelBinding.flag === 'p') throw this.fail('channel-binding', 'client requested channel binding, which was not offered');
    this.clientFirst = client;
    this.serverFirst = buildServerFirstMessage({ nonce: `${client.nonce}${this.nonce}`, salt: this.verifier.salt, iterations: this.verifier.iterations });
    this.phase = 'final';
    return Buffer.from(this.serverFirst, 'utf8');
  }

  /** client-final in: the ClientKey and the server-final to send, or ScramServerError('wrong-proof'). */
  final(data: Buffer): { secret: ScramSessionSecret; serverFinal: Buffer } {
    this.expect('final');
    const client = this.clientFirst as ClientFirstMessage;
    const serverFirst = this.serverFirst as string;
    const final = this.parse(() =>
      parseClientFinalMessage(scramText(data, 'client-final-message'), {
        gs2Header: client.gs2Header,
        channelBinding: client.channelBinding,
        nonce: `${client.nonce}${this.nonce}`,
      }),
    );
    const message = authMessage(client.bare, serverFirst, final.withoutProof);
    const clientKey = recoverClientKey(final.proof, this.verifier.storedKey, message);
    final.proof.fill(0);
    if (clientKey === undefined) throw this.fail('wrong-proof', 'the client proof does not match the verifier');
    const signature = serverSignature(this.verifier.serverKey, message);
    const serverFinal = Buffer.from(buildServerFinalMessage({ kind: 'verifier', signature }), 'utf8');
    const secret = new ScramSessionSecret(clientKey, this.verifier.serverKey, this.verifier.salt, this.verifier.iterations);
    clientKey.fill(0);
    signature.fill(0);
    this.phase = 'done';
    return { secret, serverFinal };
  }

  private expect(phase: Phase): void {
    if (this.phase !== phase) throw this.fail('out-of-order', `SCRAM message out of order (expected ${phase}, at ${this.phase})`);
  }

  private parse<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      if (error instanceof ScramMessageError) throw this.fail('malformed', error.message);
      throw error;
    }
  }

  private fail(reason: ScramServerFailure, message: string): ScramServerError {
    this.phase = 'failed';
    return new ScramServerError(reason, message);
  }
}
