import { MalformedAuthRequest, parseAuthRequest } from '../../../wire/auth-request.js';
import type { Frame } from '../../../wire/frame-reader.js';
import { BackendCode, codeLetter, FrontendCode } from '../../../wire/message-codes.js';
import { parseError, parseSaslInitialResponse } from '../../../wire/parser.js';
import { SCRAM_SHA_256, SCRAM_SHA_256_PLUS } from './channel-binding.js';
import { sameBytes } from './scram-keys.js';
import {
  parseClientFinalMessage,
  parseClientFirstMessage,
  parseServerFinalMessage,
  parseServerFirstMessage,
  scramText,
  ScramMessageError,
  type ClientFirstMessage,
  type ServerFirstMessage,
} from './scram-messages.js';
import { authMessage, recoverClientKey, serverSignature } from './scram-proof.js';
import type { ScramVerifier } from './scram-verifier.js';
import { ScramSessionSecret } from './session-secret.js';

export type ScramObservation =
  | { status: 'observing' }
  /** The server said SASLFinal and AuthenticationOk: `extract(verifier)` may now yield the ClientKey. */
  | { status: 'authenticated' }
  /** The login is not one the router may take a key from (it goes on untouched). */
  | { status: 'not-extractable'; reason: 'channel-binding' | 'not-scram'; detail: string }
  /** The server refused the login with this ErrorResponse: nothing to extract. */
  | { status: 'refused'; sqlstate: string; message: string }
  /** The exchange did not look like SCRAM as PostgreSQL speaks it; the observer gave up. */
  | { status: 'lost'; detail: string };

export type ClientKeyExtraction = { ok: true; secret: ScramSessionSecret } | { ok: false; reason: 'not-authenticated' | 'verifier-mismatch' | 'proof-mismatch'; detail: string };

type Phase = 'sasl-offer' | 'initial-response' | 'server-first' | 'client-final' | 'server-final' | 'ok' | 'done';

/**
 * Watches a SCRAM-SHA-256 login the router relays between a client and a member, fed every
 * message in both directions as it passes. It never changes or delays a message: PostgreSQL
 * judges the login, the observer only keeps what it needs to recover the ClientKey afterwards
 * from the client's proof and the user's verifier (PgBouncer's "SCRAM pass-through" idea).
 */
export class ScramObserver {
  private phase: Phase = 'sasl-offer';
  private result: ScramObservation = { status: 'observing' };
  private offered: readonly string[] = [];
  private clientFirst: ClientFirstMessage | undefined;
  private serverFirst: ServerFirstMessage | undefined;
  private clientFinalWithoutProof: string | undefined;
  private proof: Buffer | undefined;
  private signature: Buffer | undefined;

  get observation(): ScramObservation {
    return this.result;
  }

  /** A message from the member, as framed. */
  fromServer(frame: Frame): void {
    if (this.phase === 'done') return;
    if (frame.code === BackendCode.ErrorResponse) {
      const { code = '', message = '' } = parseError(frame.body);
      this.finish({ status: 'refused', sqlstate: code, message });
      return;
    }
    // Notices may come at any time; NegotiateProtocolVersion precedes authentication.
    if (frame.code === BackendCode.NoticeResponse || frame.code === BackendCode.NegotiateProtocolVersion) return;
    if (frame.code !== BackendCode.Authentication) return this.lose(`unexpected server message '${codeLetter(frame.code)}' during authentication`);
    this.capture(() => this.onAuthRequest(frame.body));
  }

  /** A message from the client. */
  fromClient(frame: Frame): void {
    if (this.phase === 'done') return;
    if (frame.code !== FrontendCode.Password) return this.lose(`unexpected client message '${codeLetter(frame.code)}' during authentication`);
    this.capture(() => this.onClientResponse(frame.body));
  }

  /**
   * The ClientKey, once the server accepted the login, from the verifier of the user:
   * ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage), kept only if H(ClientKey) = StoredKey.
   * The verifier must be the one the server used: same salt and iterations, and its ServerKey must
   * produce the signature the server sent. Once a key is extracted the proof is wiped; after a
   * mismatch it is kept, so the caller may retry with a freshly fetched verifier (and must call
   * wipe() when it gives up).
   */
  extract(verifier: ScramVerifier): ClientKeyExtraction {
    const { serverFirst, clientFirst, clientFinalWithoutProof, proof, signature } = this;
    if (this.result.status !== 'authenticated' || !serverFirst || !clientFirst || clientFinalWithoutProof === undefined || !proof || !signature) {
      return { ok: false, reason: 'not-authenticated', detail: `no accepted SCRAM exchange to take a key from (${this.result.status})` };
    }
    if (!sameBytes(verifier.salt, serverFirst.salt) || verifier.iterations !== serverFirst.iterations) {
      return { ok: false, reason: 'verifier-mismatch', detail: 'the verifier has another salt or iteration count than the server used (password changed?)' };
    }
    const message = authMessage(clientFirst.bare, serverFirst.text, clientFinalWithoutProof);
    const expected = serverSignature(verifier.serverKey, message);
    const sameServer = sameBytes(expected, signature);
    expected.fill(0);
    if (!sameServer) {
      return { ok: false, reason: 'verifier-mismatch', detail: "the verifier's ServerKey does not produce the server's signature" };
    }
    const clientKey = recoverClientKey(proof, verifier.storedKey, message);
    if (!clientKey) return { ok: false, reason: 'proof-mismatch', detail: "the client's proof does not match the verifier's StoredKey" };
    const secret = new ScramSessionSecret(clientKey, verifier.serverKey, verifier.salt, verifier.iterations);
    clientKey.fill(0);
    this.wipe();
    return { ok: true, secret };
  }

  /** Forgets the proof (call when the session ends without extracting). */
  wipe(): void {
    this.proof?.fill(0);
    this.proof = undefined;
    this.signature = undefined;
  }

  private onAuthRequest(body: Buffer): void {
    const request = parseAuthRequest(body);
    switch (this.phase) {
      case 'sasl-offer':
        if (request.kind !== 'sasl') {
          return this.finish({ status: 'not-extractable', reason: 'not-scram', detail: `the server asked for ${request.kind}, not SASL` });
        }
        if (!request.mechanisms.includes(SCRAM_SHA_256) && !request.mechanisms.includes(SCRAM_SHA_256_PLUS)) {
          return this.finish({ status: 'not-extractable', reason: 'not-scram', detail: 'the server offered no SCRAM-SHA-256 mechanism' });
        }
        this.offered = request.mechanisms;
        this.phase = 'initial-response';
        return;
      case 'server-first': {
        if (request.kind !== 'sasl-continue') return this.lose(`expected SASLContinue, got ${request.kind}`);
        const client = this.clientFirst as ClientFirstMessage;
        this.serverFirst = parseServerFirstMessage(scramText(request.data, 'server-first-message'), client.nonce);
        this.phase = 'client-final';
        return;
      }
      case 'server-final': {
        if (request.kind !== 'sasl-final') return this.lose(`expected SASLFinal, got ${request.kind}`);
        const final = parseServerFinalMessage(scramText(request.data, 'server-final-message'));
        if (final.kind === 'error') return this.lose('the server ended SCRAM with an error attribute');
        this.signature = final.signature;
        this.phase = 'ok';
        return;
      }
      case 'ok':
        if (request.kind !== 'ok') return this.lose(`expected AuthenticationOk, got ${request.kind}`);
        this.phase = 'done';
        this.result = { status: 'authenticated' };
        return;
      default:
        return this.lose(`server sent ${request.kind} while the client was to answer`);
    }
  }

  private onClientResponse(body: Buffer): void {
    switch (this.phase) {
      case 'initial-response': {
        const initial = parseSaslInitialResponse(body);
        if (!initial) return this.lose('malformed SASLInitialResponse');
        if (initial.mechanism === SCRAM_SHA_256_PLUS) {
          return this.finish({ status: 'not-extractable', reason: 'channel-binding', detail: 'the client selected SCRAM-SHA-256-PLUS' });
        }
        if (initial.mechanism !== SCRAM_SHA_256 || !this.offered.includes(initial.mechanism)) {
          return this.lose(`the client selected a mechanism the server did not offer`);
        }
        if (!initial.data) return this.lose('SASLInitialResponse without a client-first-message');
        const clientFirst = parseClientFirstMessage(scramText(initial.data, 'client-first-message'));
        // A client that asks for channel binding wants proof that nobody sits between it and the
        // server; taking its key would defeat what it asked for, so the router does not.
        if (clientFirst.channelBinding.flag === 'p') {
          return this.finish({ status: 'not-extractable', reason: 'channel-binding', detail: 'the client-first-message requests channel binding' });
        }
        this.clientFirst = clientFirst;
        this.phase = 'server-first';
        return;
      }
      case 'client-final': {
        const client = this.clientFirst as ClientFirstMessage;
        const server = this.serverFirst as ServerFirstMessage;
        const final = parseClientFinalMessage(scramText(body, 'client-final-message'), {
          gs2Header: client.gs2Header,
          channelBinding: client.channelBinding,
          nonce: server.nonce,
        });
        this.clientFinalWithoutProof = final.withoutProof;
        this.proof = final.proof;
        this.phase = 'server-final';
        return;
      }
      default:
        return this.lose('the client sent a message while the server was to answer');
    }
  }

  private capture(step: () => void): void {
    try {
      step();
    } catch (error) {
      if (error instanceof ScramMessageError || error instanceof MalformedAuthRequest) return this.lose(error.message);
      throw error;
    }
  }

  private lose(detail: string): void {
    this.finish({ status: 'lost', detail });
  }

  private finish(result: Exclude<ScramObservation, { status: 'observing' | 'authenticated' }>): void {
    this.phase = 'done';
    this.result = result;
    this.wipe();
  }
}
