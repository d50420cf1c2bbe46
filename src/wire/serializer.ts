/**
 * Every message the router writes itself, to a client (it speaks as a server) or to a member
 * (it speaks as a client). Relayed messages are never rebuilt: their bytes pass as they came.
 */
import {
  AuthCode,
  BackendCode,
  DescribeTarget,
  ErrorField,
  FormatCode,
  FrontendCode,
  HEADER_LENGTH,
  NegotiationAnswer,
  RequestCode,
  type TransactionStatus,
} from './message-codes.js';
import { MessageWriter } from './message-writer.js';
import type { StartupParams } from './startup-params.js';

/** The fields of an ErrorResponse / NoticeResponse the router writes. */
export interface ErrorFields {
  severity: 'FATAL' | 'ERROR' | 'WARNING' | 'NOTICE' | 'LOG';
  /** SQLSTATE, five characters. */
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

function notice(code: number, fields: ErrorFields): Buffer {
  const w = new MessageWriter(code, 64 + fields.message.length);
  w.byte(ErrorField.Severity.charCodeAt(0)).cstring(fields.severity);
  w.byte(ErrorField.SeverityNonLocalized.charCodeAt(0)).cstring(fields.severity);
  w.byte(ErrorField.Code.charCodeAt(0)).cstring(fields.code);
  w.byte(ErrorField.Message.charCodeAt(0)).cstring(fields.message);
  if (fields.detail !== undefined) w.byte(ErrorField.Detail.charCodeAt(0)).cstring(fields.detail);
  if (fields.hint !== undefined) w.byte(ErrorField.Hint.charCodeAt(0)).cstring(fields.hint);
  return w.byte(0).finish();
}

// --- to a client (the router speaking as a server) ---

export function errorResponse(fields: ErrorFields): Buffer {
  return notice(BackendCode.ErrorResponse, fields);
}

export function noticeResponse(fields: ErrorFields): Buffer {
  return notice(BackendCode.NoticeResponse, fields);
}

/** The one-byte answer to an SSLRequest or GSSENCRequest. */
export function negotiationAnswer(accept: boolean): Buffer {
  return Buffer.from([accept ? NegotiationAnswer.Accept : NegotiationAnswer.Refuse]);
}

/** An Authentication message: its code and whatever that code carries (salt, SASL data). */
export function authentication(code: AuthCode, payload?: Uint8Array): Buffer {
  const w = new MessageWriter(BackendCode.Authentication, 16 + (payload?.length ?? 0)).int32(code);
  if (payload !== undefined) w.bytes(payload);
  return w.finish();
}

export function authenticationOk(): Buffer {
  return authentication(AuthCode.Ok);
}

/** AuthenticationSASL with its mechanism list (each NUL-terminated, then an empty one). */
export function authenticationSasl(mechanisms: readonly string[]): Buffer {
  const w = new MessageWriter(BackendCode.Authentication).int32(AuthCode.SASL);
  for (const m of mechanisms) w.cstring(m);
  return w.byte(0).finish();
}

export function parameterStatus(name: string, value: string): Buffer {
  return new MessageWriter(BackendCode.ParameterStatus).cstring(name).cstring(value).finish();
}

export function backendKeyData(processId: number, secret: Uint8Array): Buffer {
  return new MessageWriter(BackendCode.BackendKeyData).int32(processId).bytes(secret).finish();
}

export function readyForQuery(status: TransactionStatus): Buffer {
  return new MessageWriter(BackendCode.ReadyForQuery, 8).byte(status).finish();
}

// --- to a member (the router speaking as a client) ---

export function sslRequest(): Buffer {
  return new MessageWriter(undefined, 8).int32(RequestCode.SSL).finish();
}

export function cancelRequest(processId: number, secret: Uint8Array): Buffer {
  return new MessageWriter(undefined, 12 + secret.length).int32(RequestCode.Cancel).int32(processId).bytes(secret).finish();
}

/** A StartupMessage keeping the client's protocol version (3.x). */
export function startupMessage(major: number, minor: number, params: StartupParams): Buffer {
  const w = new MessageWriter(undefined, 128).int16(major).int16(minor);
  for (const [name, value] of Object.entries(params)) w.cstring(name).cstring(value);
  return w.byte(0).finish();
}

export function query(text: string): Buffer {
  return new MessageWriter(FrontendCode.Query, 16 + text.length).cstring(text).finish();
}

export function terminate(): Buffer {
  return new MessageWriter(FrontendCode.Terminate, 8).finish();
}

// The extended query protocol, as the router's auth query uses it: the unnamed statement and
// portal (the empty name), which the next lookup replaces, so nothing named piles up on the
// connection.

/** Parse: the statement text with its parameters' type OIDs, so the server guesses no type. */
export function parse(text: string, parameterTypes: readonly number[]): Buffer {
  const w = new MessageWriter(FrontendCode.Parse, 16 + Buffer.byteLength(text, 'utf8') + 4 * parameterTypes.length);
  w.cstring('').cstring(text).int16(parameterTypes.length);
  for (const oid of parameterTypes) w.int32(oid);
  return w.finish();
}

/** Bind: every parameter in text format, every result column asked for in text format. */
export function bind(values: readonly string[]): Buffer {
  const w = new MessageWriter(FrontendCode.Bind).cstring('').cstring('').int16(values.length);
  for (let i = 0; i < values.length; i++) w.int16(FormatCode.Text);
  w.int16(values.length);
  for (const value of values) {
    const bytes = Buffer.from(value, 'utf8');
    w.int32(bytes.length).bytes(bytes);
  }
  return w.int16(1).int16(FormatCode.Text).finish();
}

/** Execute: the unnamed portal, all rows (0 = no limit). */
export function execute(): Buffer {
  return new MessageWriter(FrontendCode.Execute, 16).cstring('').int32(0).finish();
}

/** Close of a named prepared statement (a split session closes on one link what the client closed on another). */
export function closeStatement(name: string): Buffer {
  return new MessageWriter(FrontendCode.Close, 8 + Buffer.byteLength(name, 'utf8')).byte(DescribeTarget.Statement).cstring(name).finish();
}

export function sync(): Buffer {
  return new MessageWriter(FrontendCode.Sync, 8).finish();
}

// The client's answers to an Authentication request all travel as Password ('p') messages;
// only the state of the exchange tells them apart. They carry secrets, so each is written by a
// secret MessageWriter sized exactly: a fresh buffer of its own that the caller zero-fills once
// the stream has taken it.

/**
 * PasswordMessage: a cleartext password or an md5 response, NUL-terminated. Text follows
 * MessageWriter.cstring (NULs dropped). Bytes are what the router holds in buffers it wipes; a
 * NUL in them is refused rather than dropped, so a secret travels exactly or not at all.
 */
export function passwordMessage(password: string | Uint8Array): Buffer {
  if (typeof password === 'string') {
    return new MessageWriter(FrontendCode.Password, HEADER_LENGTH + Buffer.byteLength(password, 'utf8') + 1, { secret: true }).cstring(password).finish();
  }
  if (password.includes(0)) throw new RangeError('a password message cannot contain a NUL byte');
  return new MessageWriter(FrontendCode.Password, HEADER_LENGTH + password.length + 1, { secret: true }).bytes(password).byte(0).finish();
}

/** SASLInitialResponse: the mechanism, then the length-prefixed client-first message. */
export function saslInitialResponse(mechanism: string, data: Uint8Array): Buffer {
  const size = HEADER_LENGTH + Buffer.byteLength(mechanism, 'utf8') + 1 + 4 + data.length;
  return new MessageWriter(FrontendCode.Password, size, { secret: true }).cstring(mechanism).int32(data.length).bytes(data).finish();
}

/** SASLResponse: the raw client-final message. */
export function saslResponse(data: Uint8Array): Buffer {
  return new MessageWriter(FrontendCode.Password, HEADER_LENGTH + data.length, { secret: true }).bytes(data).finish();
}
