import { cString, encodeFrame } from './frame.js';

/** The int32 code after 'R' in an Authentication* message (PostgreSQL's pqcomm.h AUTH_REQ_*). */
export const AuthCode = {
  ok: 0,
  kerberosV5: 2,
  cleartextPassword: 3,
  md5Password: 5,
  gss: 7,
  gssContinue: 8,
  sspi: 9,
  sasl: 10,
  saslContinue: 11,
  saslFinal: 12,
} as const;

/** What an 'R' message asks of the client (or tells it). */
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

/** Parses the body of an 'R' message. Throws MalformedAuthRequest. */
export function parseAuthRequest(body: Buffer): AuthRequest {
  if (body.length < 4) throw new MalformedAuthRequest('shorter than its code');
  const code = body.readInt32BE(0);
  const rest = body.subarray(4);
  switch (code) {
    case AuthCode.ok:
      if (rest.length !== 0) throw new MalformedAuthRequest('AuthenticationOk with a payload');
      return { kind: 'ok' };
    case AuthCode.cleartextPassword:
      if (rest.length !== 0) throw new MalformedAuthRequest('AuthenticationCleartextPassword with a payload');
      return { kind: 'cleartext-password' };
    case AuthCode.md5Password:
      if (rest.length !== 4) throw new MalformedAuthRequest(`AuthenticationMD5Password salt of ${rest.length} bytes`);
      return { kind: 'md5-password', salt: Buffer.from(rest) };
    case AuthCode.sasl:
      return { kind: 'sasl', mechanisms: parseMechanismList(rest) };
    case AuthCode.saslContinue:
      return { kind: 'sasl-continue', data: Buffer.from(rest) };
    case AuthCode.saslFinal:
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

function withCode(code: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.alloc(4 + payload.length);
  body.writeInt32BE(code, 0);
  payload.copy(body, 4);
  return encodeFrame('R', body);
}

/** An 'R' message, e.g. the mechanism list the router forwards once it removed what it cannot relay. */
export function encodeAuthRequest(request: AuthRequest): Buffer {
  switch (request.kind) {
    case 'ok':
      return withCode(AuthCode.ok);
    case 'cleartext-password':
      return withCode(AuthCode.cleartextPassword);
    case 'md5-password':
      if (request.salt.length !== 4) throw new RangeError('an md5 salt is 4 bytes');
      return withCode(AuthCode.md5Password, request.salt);
    case 'sasl':
      if (request.mechanisms.length === 0) throw new RangeError('AuthenticationSASL needs at least one mechanism');
      return withCode(AuthCode.sasl, Buffer.concat([...request.mechanisms.map(cString), Buffer.from([0])]));
    case 'sasl-continue':
      return withCode(AuthCode.saslContinue, request.data);
    case 'sasl-final':
      return withCode(AuthCode.saslFinal, request.data);
    case 'unsupported':
      return withCode(request.code);
  }
}
