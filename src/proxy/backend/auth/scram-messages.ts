import { decodeBase64, encodeBase64 } from './base64.js';
import { SCRAM_KEY_LENGTH } from './scram-keys.js';

/**
 * The four SCRAM-SHA-256 messages (RFC 5802 §7), as PostgreSQL exchanges them: parsed strictly
 * (an attribute out of place, a bad character, a nonce that does not chain is an error) and built
 * the way libpq builds them. Messages are kept as the exact text that travelled, because the
 * AuthMessage every proof and signature covers is made of that text.
 */

export type ScramMessageName = 'client-first-message' | 'server-first-message' | 'client-final-message' | 'server-final-message';

export class ScramMessageError extends Error {
  constructor(
    readonly messageName: ScramMessageName,
    readonly reason: string,
  ) {
    super(`malformed SCRAM ${messageName}: ${reason}`);
  }
}

/** The GS2 channel-binding flag: `n` none, `y` client could but thinks the server cannot, `p=<type>` in use. */
export type ChannelBindingFlag = { flag: 'n' } | { flag: 'y' } | { flag: 'p'; type: string };

export interface ClientFirstMessage {
  channelBinding: ChannelBindingFlag;
  /** The GS2 header as sent, e.g. `n,,`: the client-final's `c=` carries it in base64. */
  gs2Header: string;
  /** The name in `n=`; PostgreSQL ignores it and uses the startup packet's user (libpq sends it empty). */
  username: string;
  nonce: string;
  /** client-first-message-bare: the first part of AuthMessage. */
  bare: string;
}

export interface ServerFirstMessage {
  /** The client's nonce followed by the server's. */
  nonce: string;
  salt: Buffer;
  iterations: number;
  text: string;
}

export interface ClientFinalMessage {
  /** The decoded `c=`: the GS2 header, then channel-binding data when the flag is `p`. */
  channelBindingInput: Buffer;
  nonce: string;
  proof: Buffer;
  /** client-final-message-without-proof: the last part of AuthMessage. */
  withoutProof: string;
}

export type ServerFinalMessage = { kind: 'verifier'; signature: Buffer } | { kind: 'error'; error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A SASL payload as text: valid UTF-8, no NUL. */
export function scramText(data: Buffer, name: ScramMessageName): string {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    throw new ScramMessageError(name, 'not valid UTF-8');
  }
  if (text.includes('\0')) throw new ScramMessageError(name, 'contains a NUL byte');
  return text;
}

// RFC 5802 §7: printable = %x21-2B / %x2D-7E (no comma); value-char excludes NUL and comma;
// saslname escapes ',' and '=' as =2C and =3D; cb-name = 1*(ALPHA / DIGIT / "." / "-").
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
const SASLNAME = /^(?:[^,=]|=2C|=3D)*$/;
const CB_NAME = /^[A-Za-z0-9.-]+$/;
const EXTENSION = /^[A-Za-z]=[^,]+$/;
/** Letters RFC 5802 defines: an "extension" using one is a duplicated or misplaced attribute. */
const DEFINED_ATTRIBUTES = new Set('acimnprsve');
const POSITIVE_INT32 = /^[1-9][0-9]{0,9}$/;

function attribute(parts: string[], index: number, letter: string, name: ScramMessageName): string {
  const part = parts[index];
  if (part === undefined) throw new ScramMessageError(name, `missing attribute ${letter}=`);
  if (!part.startsWith(`${letter}=`)) throw new ScramMessageError(name, `expected attribute ${letter}= at position ${index + 1}`);
  return part.slice(2);
}

function checkExtensions(parts: string[], name: ScramMessageName): void {
  for (const part of parts) {
    if (part.startsWith('m=')) throw new ScramMessageError(name, 'requires an unsupported mandatory extension (m=)');
    if (!EXTENSION.test(part)) throw new ScramMessageError(name, 'malformed extension attribute');
    if (DEFINED_ATTRIBUTES.has(part[0] as string)) throw new ScramMessageError(name, `attribute ${part[0]}= repeated or out of place`);
  }
}

function refuseMandatoryExtension(parts: string[], name: ScramMessageName): void {
  if (parts[0]?.startsWith('m=')) throw new ScramMessageError(name, 'requires an unsupported mandatory extension (m=)');
}

function checkNonce(nonce: string, name: ScramMessageName): void {
  if (!PRINTABLE.test(nonce)) throw new ScramMessageError(name, 'nonce is empty or has non-printable characters or a comma');
}

function decodeName(saslname: string): string {
  return saslname.replace(/=2C|=3D/g, (escape) => (escape === '=2C' ? ',' : '='));
}

function encodeName(name: string): string {
  return name.replace(/[,=]/g, (c) => (c === ',' ? '=2C' : '=3D'));
}

export function parseClientFirstMessage(text: string): ClientFirstMessage {
  const name = 'client-first-message';
  const parts = text.split(',');
  const [flag, authzid] = parts;
  let channelBinding: ChannelBindingFlag;
  if (flag === 'n' || flag === 'y') channelBinding = { flag };
  else if (flag?.startsWith('p=') && CB_NAME.test(flag.slice(2))) channelBinding = { flag: 'p', type: flag.slice(2) };
  else throw new ScramMessageError(name, 'GS2 header must start with n, y or p=<channel-binding type>');
  if (authzid === undefined) throw new ScramMessageError(name, 'GS2 header is not terminated');
  // PostgreSQL: "client uses authorization identity, but it is not supported".
  if (authzid !== '') throw new ScramMessageError(name, 'authorization identity (a=) is not supported');
  const bareParts = parts.slice(2);
  refuseMandatoryExtension(bareParts, name);
  const username = attribute(bareParts, 0, 'n', name);
  if (!SASLNAME.test(username)) throw new ScramMessageError(name, 'user name has an unescaped "=" or ","');
  const nonce = attribute(bareParts, 1, 'r', name);
  checkNonce(nonce, name);
  checkExtensions(bareParts.slice(2), name);
  return { channelBinding, gs2Header: `${flag},${authzid},`, username: decodeName(username), nonce, bare: bareParts.join(',') };
}

/** Parses the server-first-message and checks it continues `clientNonce` with a nonce of its own. */
export function parseServerFirstMessage(text: string, clientNonce: string): ServerFirstMessage {
  const name = 'server-first-message';
  const parts = text.split(',');
  refuseMandatoryExtension(parts, name);
  const nonce = attribute(parts, 0, 'r', name);
  checkNonce(nonce, name);
  if (!nonce.startsWith(clientNonce)) throw new ScramMessageError(name, 'nonce does not start with the client nonce');
  if (nonce.length === clientNonce.length) throw new ScramMessageError(name, 'server added nothing to the nonce');
  const saltText = attribute(parts, 1, 's', name);
  const salt = decodeBase64(saltText);
  if (!salt || salt.length === 0) throw new ScramMessageError(name, 'salt is not base64');
  const iterationsText = attribute(parts, 2, 'i', name);
  if (!POSITIVE_INT32.test(iterationsText) || Number(iterationsText) > 0x7fffffff) {
    throw new ScramMessageError(name, 'iteration count is not a positive 32-bit integer');
  }
  checkExtensions(parts.slice(3), name);
  return { nonce, salt, iterations: Number(iterationsText), text };
}

/**
 * Parses the client-final-message and checks it against the exchange so far: `c=` must carry the
 * client-first's GS2 header (plus binding data only with `p=`), `r=` must be the server's nonce.
 */
export function parseClientFinalMessage(text: string, expected: { gs2Header: string; channelBinding: ChannelBindingFlag; nonce: string }): ClientFinalMessage {
  const name = 'client-final-message';
  const proofAt = text.lastIndexOf(',p=');
  if (proofAt < 0) throw new ScramMessageError(name, 'missing proof (p=) as the last attribute');
  const withoutProof = text.slice(0, proofAt);
  const parts = withoutProof.split(',');
  const channelBindingText = attribute(parts, 0, 'c', name);
  const channelBindingInput = decodeBase64(channelBindingText);
  if (!channelBindingInput) throw new ScramMessageError(name, 'channel binding (c=) is not base64');
  const header = Buffer.from(expected.gs2Header, 'utf8');
  const startsWithHeader = channelBindingInput.subarray(0, header.length).equals(header);
  if (expected.channelBinding.flag === 'p') {
    if (!startsWithHeader || channelBindingInput.length === header.length) {
      throw new ScramMessageError(name, 'channel binding (c=) lacks the GS2 header and binding data');
    }
  } else if (!startsWithHeader || channelBindingInput.length !== header.length) {
    throw new ScramMessageError(name, 'channel binding (c=) does not match the GS2 header of the client-first-message');
  }
  const nonce = attribute(parts, 1, 'r', name);
  if (nonce !== expected.nonce) throw new ScramMessageError(name, 'nonce does not match the server-first-message');
  checkExtensions(parts.slice(2), name);
  const proofText = text.slice(proofAt + 3);
  const proof = decodeBase64(proofText);
  if (!proof || proof.length !== SCRAM_KEY_LENGTH) throw new ScramMessageError(name, `proof is not ${SCRAM_KEY_LENGTH} bytes of base64`);
  return { channelBindingInput, nonce, proof, withoutProof };
}

export function parseServerFinalMessage(text: string): ServerFinalMessage {
  const name = 'server-final-message';
  const parts = text.split(',');
  const first = parts[0] ?? '';
  checkExtensions(parts.slice(1), name);
  if (first.startsWith('e=')) {
    const error = first.slice(2);
    if (error === '') throw new ScramMessageError(name, 'empty server error (e=)');
    return { kind: 'error', error };
  }
  const signatureText = attribute(parts, 0, 'v', name);
  const signature = decodeBase64(signatureText);
  if (!signature || signature.length !== SCRAM_KEY_LENGTH) {
    throw new ScramMessageError(name, `server signature is not ${SCRAM_KEY_LENGTH} bytes of base64`);
  }
  return { kind: 'verifier', signature };
}

function gs2Header(channelBinding: ChannelBindingFlag): string {
  return channelBinding.flag === 'p' ? `p=${channelBinding.type},,` : `${channelBinding.flag},,`;
}

/** client-first-message; the user name defaults to empty as libpq sends it (PostgreSQL ignores it). */
export function buildClientFirstMessage(options: { nonce: string; username?: string; channelBinding?: ChannelBindingFlag }): ClientFirstMessage & { text: string } {
  checkNonce(options.nonce, 'client-first-message');
  const channelBinding = options.channelBinding ?? { flag: 'n' };
  const header = gs2Header(channelBinding);
  const bare = `n=${encodeName(options.username ?? '')},r=${options.nonce}`;
  return { channelBinding, gs2Header: header, username: options.username ?? '', nonce: options.nonce, bare, text: `${header}${bare}` };
}

export function buildServerFirstMessage(options: { nonce: string; salt: Buffer; iterations: number }): string {
  checkNonce(options.nonce, 'server-first-message');
  return `r=${options.nonce},s=${encodeBase64(options.salt)},i=${options.iterations}`;
}

/** client-final-message-without-proof; `bindingData` only for channel binding (`p=`). */
export function buildClientFinalWithoutProof(options: { gs2Header: string; nonce: string; bindingData?: Buffer }): string {
  const input = Buffer.concat([Buffer.from(options.gs2Header, 'utf8'), options.bindingData ?? Buffer.alloc(0)]);
  return `c=${encodeBase64(input)},r=${options.nonce}`;
}

export function buildClientFinalMessage(withoutProof: string, proof: Buffer): string {
  return `${withoutProof},p=${encodeBase64(proof)}`;
}

export function buildServerFinalMessage(final: ServerFinalMessage): string {
  return final.kind === 'verifier' ? `v=${encodeBase64(final.signature)}` : `e=${final.error}`;
}
