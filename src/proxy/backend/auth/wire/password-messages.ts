import { cString, encodeFrame, readCString } from './frame.js';

/**
 * The client's answers to an 'R' request all travel as type 'p': PasswordMessage,
 * SASLInitialResponse and SASLResponse. Only the state of the exchange tells them apart.
 */

/** PasswordMessage: a cleartext password or an md5 response, NUL-terminated. */
export function encodePasswordMessage(password: Buffer): Buffer {
  if (password.includes(0)) throw new RangeError('a password message cannot contain a NUL byte');
  const body = Buffer.alloc(password.length + 1);
  password.copy(body, 0);
  return encodeFrame('p', body);
}

/** SASLInitialResponse: the chosen mechanism, then the int32-length-prefixed client-first-message. */
export function encodeSaslInitialResponse(mechanism: string, data: Buffer): Buffer {
  const name = cString(mechanism);
  const body = Buffer.alloc(name.length + 4 + data.length);
  name.copy(body, 0);
  body.writeInt32BE(data.length, name.length);
  data.copy(body, name.length + 4);
  return encodeFrame('p', body);
}

/** SASLResponse: the client-final-message as is. */
export function encodeSaslResponse(data: Buffer): Buffer {
  return encodeFrame('p', data);
}

export type SaslInitialResponse = { mechanism: string; data: Buffer | undefined };

/** Parses a SASLInitialResponse body; undefined when malformed. A length of -1 means "no data". */
export function parseSaslInitialResponse(body: Buffer): SaslInitialResponse | undefined {
  const name = readCString(body, 0);
  if (!name || name.text === '') return undefined;
  if (body.length < name.next + 4) return undefined;
  const length = body.readInt32BE(name.next);
  const start = name.next + 4;
  if (length === -1) return start === body.length ? { mechanism: name.text, data: undefined } : undefined;
  if (length < 0 || start + length !== body.length) return undefined;
  return { mechanism: name.text, data: Buffer.from(body.subarray(start)) };
}
