/**
 * Strict base64 (RFC 4648 standard alphabet, padded). Node's own decoder skips characters outside
 * the alphabet and accepts missing padding, so `s=ab!cd` would quietly decode to something: SCRAM
 * attributes and stored verifiers are checked here first. Works on bytes as well as text so a
 * verifier read off the wire never has to become a (non-wipeable) JavaScript string.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 0x3d; // '='
const VALUES = new Int8Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

/** The decoded bytes, or undefined when `input` is not canonical padded base64. */
export function decodeBase64(input: Buffer | string): Buffer | undefined {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  if (typeof input === 'string' && /[^\x00-\xff]/.test(input)) return undefined;
  if (bytes.length % 4 !== 0) return undefined;
  let padding = 0;
  if (bytes.length > 0 && bytes[bytes.length - 1] === PAD) padding = bytes[bytes.length - 2] === PAD ? 2 : 1;
  const out = Buffer.alloc((bytes.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < bytes.length; i += 4) {
    const last = i + 4 === bytes.length;
    const a = VALUES[bytes[i] as number] as number;
    const b = VALUES[bytes[i + 1] as number] as number;
    const cByte = bytes[i + 2] as number;
    const dByte = bytes[i + 3] as number;
    const c = last && padding === 2 && cByte === PAD ? 0 : (VALUES[cByte] as number);
    const d = last && padding >= 1 && dByte === PAD ? 0 : (VALUES[dByte] as number);
    if (a < 0 || b < 0 || c < 0 || d < 0) {
      out.fill(0);
      return undefined;
    }
    const triple = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = (triple >> 16) & 0xff;
    if (o < out.length) out[o++] = (triple >> 8) & 0xff;
    if (o < out.length) out[o++] = triple & 0xff;
  }
  return out;
}

export function encodeBase64(bytes: Buffer): string {
  return bytes.toString('base64');
}
