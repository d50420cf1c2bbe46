/**
 * What an Authentication message asks of the client, or tells it: the reading side of
 * serializer.ts's `authentication*` writers. Pure. Strict, because the router answers these
 * requests itself when it logs in to a member, and relays them when it watches a client do so.
 */
import { AuthCode } from './message-codes.js';
import { authCodeOf } from './parser.js';

export type AuthRequest =
  | { kind: 'ok' }
  | { kind: 'cleartext-password' }
  | { kind: 'md5-password'; salt: Buffer }
  | { kind: 'sasl'; mechanisms: readonly string[] }
  | { kind: 'sasl-continue'; data: Buffer }
  | { kind: 'sasl-final'; data: Buffer }
  /** GSSAPI, SSPI, Kerberos V5: methods the router cannot answer for someone else. */
  | { kind: 'unsupported'; code: number };

export class MalformedAuthRequest extends Error {
  constructor(detail: string) {
    super(`malformed authentication request: ${detail}`);
  }
}

/** The salt of AuthenticationMD5Password is four bytes, always. */
const MD5_SALT_LENGTH = 4;

/** Parses the body of an Authentication message; payloads are copies. Throws MalformedAuthRequest. */
export function parseAuthRequest(body: Buffer): AuthRequest {
  const code = authCodeOf(body);
  if (code === undefined) throw new MalformedAuthRequest('shorter than its code');
  const rest = body.subarray(4);
  switch (code) {
    case AuthCode.Ok:
      if (rest.length !== 0) throw new MalformedAuthRequest('AuthenticationOk with a payload');
      return { kind: 'ok' };
    case AuthCode.CleartextPassword:
      if (rest.length !== 0) throw new MalformedAuthRequest('AuthenticationCleartextPassword with a payload');
      return { kind: 'cleartext-password' };
    case AuthCode.MD5Password:
      if (rest.length !== MD5_SALT_LENGTH) throw new MalformedAuthRequest(`AuthenticationMD5Password salt of ${rest.length} bytes`);
      return { kind: 'md5-password', salt: Buffer.from(rest) };
    case AuthCode.SASL:
      return { kind: 'sasl', mechanisms: parseMechanismList(rest) };
    case AuthCode.SASLContinue:
      return { kind: 'sasl-continue', data: Buffer.from(rest) };
    case AuthCode.SASLFinal:
      return { kind: 'sasl-final', data: Buffer.from(rest) };
    default:
      return { kind: 'unsupported', code };
  }
}

/** `name\0name\0\0`: at least one mechanism, each non-empty, nothing after the final NUL. */
function parseMechanismList(list: Buffer): string[] {
  const mechanisms: string[] = [];
  let offset = 0;
  for (;;) {
    const end = list.indexOf(0, offset);
    if (end < 0) throw new MalformedAuthRequest('AuthenticationSASL mechanism list is not terminated');
    if (end === offset) break;
    mechanisms.push(list.toString('utf8', offset, end));
    offset = end + 1;
  }
  if (offset !== list.length - 1) throw new MalformedAuthRequest('AuthenticationSASL has bytes after its mechanism list');
  if (mechanisms.length === 0) throw new MalformedAuthRequest('AuthenticationSASL lists no mechanism');
  return mechanisms;
}
