import type { Duplex } from 'node:stream';
import { MalformedAuthRequest, parseAuthRequest } from '../../../wire/auth-request.js';
import { FrameTooLarge } from '../../../wire/frame-reader.js';
import { BackendCode, codeLetter, PROTOCOL_3_0 } from '../../../wire/message-codes.js';
import { parseBackendKeyData, parseError, parseParameterStatus } from '../../../wire/parser.js';
import { startupMessage } from '../../../wire/serializer.js';
import { emptyParams } from '../../../wire/startup-params.js';
import { ConnectionClosed, ServerMessages } from '../message-stream.js';
import { LoginError, MemberLogin, type LoginFailure } from './member-login.js';
import type { ScramClientOptions } from './scram-client.js';
import type { SessionSecret } from './session-secret.js';

export type HandshakeFailure = 'refused' | 'timeout' | 'closed' | 'protocol' | LoginFailure;

/** Why a login to a member did not end in ReadyForQuery. Names who logged in, never the secret. */
export class HandshakeError extends Error {
  constructor(
    readonly reason: HandshakeFailure,
    message: string,
    /** The server's SQLSTATE when it refused (28P01 wrong password, 28000 no pg_hba entry, ...). */
    readonly sqlstate?: string,
  ) {
    super(message);
  }
}

export interface HandshakeOptions {
  /** The startup parameters, user and database at least: decided by the router, never a client. */
  parameters: Record<string, string>;
  secret: SessionSecret;
  timeoutMs: number;
  /** Who logs in, for error messages: e.g. `auth role "patroni_router_auth"`. */
  who: string;
  scram?: ScramClientOptions;
}

export interface BackendHandshake {
  /** The stream's messages after ReadyForQuery: keep reading them, or release() them. */
  messages: ServerMessages;
  parameters: Map<string, string>;
  backendKey: { processId: number; secret: Buffer } | undefined;
}

/**
 * StartupMessage, authentication with the session's secret, then ParameterStatus and
 * BackendKeyData up to ReadyForQuery, over a connected stream (TCP or TLS: the caller's choice).
 * Bounded by `timeoutMs`; on any failure the stream is destroyed, since it is mid-protocol.
 * Every authentication message written is zero-filled once the stream has taken it.
 */
export async function performBackendHandshake(stream: Duplex, options: HandshakeOptions): Promise<BackendHandshake> {
  const user = options.parameters.user;
  if (user === undefined) throw new HandshakeError('protocol', `${options.who}: no user in the startup parameters`);
  const messages = new ServerMessages(stream);
  const login = new MemberLogin(options.secret, user, options.scram);
  const parameters = new Map<string, string>();
  let backendKey: BackendHandshake['backendKey'];
  let authenticated = false;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stream.destroy();
  }, options.timeoutMs);
  try {
    stream.write(startupFor(options.parameters));
    for (;;) {
      const frame = await messages.next();
      switch (frame.code) {
        case BackendCode.Authentication: {
          const step = login.respond(parseAuthRequest(frame.body));
          if (step.kind === 'send') {
            const message = step.message;
            stream.write(message, () => message.fill(0));
          } else if (step.kind === 'authenticated') {
            authenticated = true;
          }
          break;
        }
        case BackendCode.ErrorResponse: {
          // Tolerant as libpq is: a missing field reads as empty rather than hide the refusal.
          const { code = '', message = '' } = parseError(frame.body);
          throw new HandshakeError('refused', `${options.who}: the server refused the login: ${code} ${message}`, code);
        }
        case BackendCode.ParameterStatus: {
          const status = parseParameterStatus(frame.body);
          if (status !== undefined && status.name !== '') parameters.set(status.name, status.value);
          break;
        }
        case BackendCode.BackendKeyData: {
          const key = parseBackendKeyData(frame.body);
          if (key !== undefined) backendKey = key;
          break;
        }
        case BackendCode.NoticeResponse:
        case BackendCode.NegotiateProtocolVersion:
          break;
        case BackendCode.ReadyForQuery:
          if (!authenticated) throw new HandshakeError('protocol', `${options.who}: ReadyForQuery before AuthenticationOk`);
          messages.wipeRead();
          clearTimeout(timer);
          return { messages, parameters, backendKey };
        default:
          throw new HandshakeError('protocol', `${options.who}: unexpected message '${codeLetter(frame.code)}' during the login`);
      }
      messages.wipeRead();
    }
  } catch (error) {
    clearTimeout(timer);
    messages.release();
    stream.destroy();
    throw describeFailure(error, options, timedOut);
  }
}

/**
 * The StartupMessage: protocol 3.0 and the given parameters. Without a client_encoding among
 * them (the router's own connections), UTF8, so that what comes back as text (role names, error
 * messages) is UTF-8 whatever the database's encoding; a session's link keeps its client's.
 */
function startupFor(parameters: Record<string, string>): Buffer {
  const params = Object.assign(emptyParams(), { client_encoding: 'UTF8' }, parameters);
  return startupMessage(PROTOCOL_3_0.major, PROTOCOL_3_0.minor, params);
}

function describeFailure(error: unknown, options: HandshakeOptions, timedOut: boolean): Error {
  if (timedOut) return new HandshakeError('timeout', `${options.who}: the login did not finish within ${options.timeoutMs} ms`);
  if (error instanceof HandshakeError) return error;
  if (error instanceof LoginError) return new HandshakeError(error.reason, `${options.who}: ${error.message}`);
  if (error instanceof ConnectionClosed) return new HandshakeError('closed', `${options.who}: ${error.message} during the login`);
  if (error instanceof MalformedAuthRequest || error instanceof FrameTooLarge) {
    return new HandshakeError('protocol', `${options.who}: ${error.message}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}
