/** Readers for the few messages whose content the router needs, in both directions. */
import { AuthCode, BackendCode, ErrorField, FrontendCode, HEADER_LENGTH, TransactionStatus } from './message-codes.js';
import type { Frame } from './frame-reader.js';

export function parseBackendKeyData(body: Buffer): { processId: number; secret: Buffer } | undefined {
  if (body.length < 8) return undefined;
  return { processId: body.readInt32BE(0), secret: Buffer.from(body.subarray(4)) };
}

export function parseParameterStatus(body: Buffer): { name: string; value: string } | undefined {
  const nameEnd = body.indexOf(0);
  if (nameEnd < 0) return undefined;
  const valueEnd = body.indexOf(0, nameEnd + 1);
  if (valueEnd < 0) return undefined;
  return { name: body.toString('utf8', 0, nameEnd), value: body.toString('utf8', nameEnd + 1, valueEnd) };
}

/** The fields of an ErrorResponse/NoticeResponse body, keyed by their one-letter code. */
export function parseErrorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let offset = 0;
  while (offset < body.length && body[offset] !== 0) {
    const end = body.indexOf(0, offset + 1);
    if (end < 0) break;
    fields.set(String.fromCharCode(body[offset] as number), body.toString('utf8', offset + 1, end));
    offset = end + 1;
  }
  return fields;
}

/** What an ErrorResponse/NoticeResponse says; a field the server left out is absent. */
export interface ServerError {
  /** SQLSTATE, e.g. 28P01 (invalid password). */
  code?: string;
  message?: string;
  /** The non-localized severity when the server sends it (9.6+), else the localized one. */
  severity?: string;
  detail?: string;
}

/** SQLSTATE, message, severity and detail of an ErrorResponse/NoticeResponse body. */
export function parseError(body: Buffer): ServerError {
  const fields = parseErrorFields(body);
  const out: ServerError = {};
  const code = fields.get(ErrorField.Code);
  const message = fields.get(ErrorField.Message);
  const severity = fields.get(ErrorField.SeverityNonLocalized) ?? fields.get(ErrorField.Severity);
  const detail = fields.get(ErrorField.Detail);
  if (code !== undefined) out.code = code;
  if (message !== undefined) out.message = message;
  if (severity !== undefined) out.severity = severity;
  if (detail !== undefined) out.detail = detail;
  return out;
}

/**
 * The columns of a DataRow, each copied into a buffer of its own (null for SQL NULL) so that the
 * frame can be zero-filled once read; an error sentence when the row is malformed (copies made
 * so far are zero-filled then).
 */
export function parseDataRow(body: Buffer): { columns: Array<Buffer | null> } | { error: string } {
  const columns: Array<Buffer | null> = [];
  const malformed = (error: string): { error: string } => {
    for (const column of columns) column?.fill(0);
    return { error };
  };
  if (body.length < 2) return malformed('DataRow too short');
  const count = body.readInt16BE(0);
  let offset = 2;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > body.length) return malformed('DataRow truncated');
    const length = body.readInt32BE(offset);
    offset += 4;
    if (length === -1) {
      columns.push(null);
      continue;
    }
    if (length < 0 || offset + length > body.length) return malformed('DataRow truncated');
    columns.push(Buffer.from(body.subarray(offset, offset + length)));
    offset += length;
  }
  if (offset !== body.length) return malformed('DataRow has trailing bytes');
  return { columns };
}

/** A SASLInitialResponse: the mechanism the client chose and its first message (none when the length is -1). */
export interface SaslInitialResponse {
  mechanism: string;
  data: Buffer | undefined;
}

/** Parses a SASLInitialResponse body (a Password message); undefined when malformed. `data` is a copy. */
export function parseSaslInitialResponse(body: Buffer): SaslInitialResponse | undefined {
  const nameEnd = body.indexOf(0);
  if (nameEnd <= 0) return undefined;
  const lengthAt = nameEnd + 1;
  const start = lengthAt + 4;
  if (body.length < start) return undefined;
  const length = body.readInt32BE(lengthAt);
  const mechanism = body.toString('utf8', 0, nameEnd);
  if (length === -1) return start === body.length ? { mechanism, data: undefined } : undefined;
  if (length < 0 || start + length !== body.length) return undefined;
  return { mechanism, data: Buffer.from(body.subarray(start)) };
}

/** The auth code of an Authentication message body, undefined when too short. */
export function authCodeOf(body: Buffer): number | undefined {
  return body.length >= 4 ? body.readInt32BE(0) : undefined;
}

export function isAuthenticationOk(frame: Frame): boolean {
  return frame.code === BackendCode.Authentication && authCodeOf(frame.body) === AuthCode.Ok;
}

const READY_FOR_QUERY_LENGTH = HEADER_LENGTH + 1;

/**
 * Whether the last six bytes of a backend stream are a ReadyForQuery: the relay keeps only
 * those bytes of each chunk to know, without framing, that it sits between messages.
 */
export function endsWithReadyForQuery(tail: Buffer): boolean {
  if (tail.length < READY_FOR_QUERY_LENGTH) return false;
  const at = tail.length - READY_FOR_QUERY_LENGTH;
  if (tail[at] !== BackendCode.ReadyForQuery || tail.readInt32BE(at + 1) !== 5) return false;
  const status = tail[at + 5];
  return status === TransactionStatus.Idle || status === TransactionStatus.InTransaction || status === TransactionStatus.Failed;
}

/** Bytes of a ReadyForQuery message that the stream-tail check needs to keep. */
export const READY_FOR_QUERY_TAIL = READY_FOR_QUERY_LENGTH;

const TERMINATE_LENGTH = HEADER_LENGTH;

/** Whether a client chunk ends with a Terminate message (the client's goodbye). */
export function endsWithTerminate(chunk: Buffer): boolean {
  const n = chunk.length;
  if (n < TERMINATE_LENGTH) return false;
  return chunk[n - TERMINATE_LENGTH] === FrontendCode.Terminate && chunk.readInt32BE(n - 4) === 4;
}
