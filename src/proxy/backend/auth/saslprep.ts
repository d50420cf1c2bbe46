/**
 * The password normalisation PostgreSQL applies before PBKDF2 (pg_saslprep, RFC 4013), needed only
 * where the router logs in with a real password (its auth role). PostgreSQL's rule: ASCII passes
 * unchanged; otherwise SASLprep, and if the result is prohibited (or the bytes are not UTF-8) the
 * raw bytes are used. The bidirectional-text rule of RFC 3454 §6 is not checked here: a password
 * that fails only that rule would be normalised here and left raw by PostgreSQL, and its SCRAM
 * login would be refused (28P01), never wrongly accepted.
 */

// RFC 3454 C.1.2: non-ASCII spaces, mapped to SPACE.
const NON_ASCII_SPACE = /[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/gu;
// RFC 3454 B.1: commonly mapped to nothing.
const MAPPED_TO_NOTHING = /[\u00ad\u034f\u1806\u180b-\u180d\u200c\u200d\u2060\ufe00-\ufe0f\ufeff]/gu;
// RFC 4013 §2.3 prohibited output: C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9.
const PROHIBITED =
  /[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f\u06dd\u070f\u180e\u200c\u200d\u2028\u2029\u2060-\u2063\u206a-\u206f\ufeff\ufff9-\ufffc\u{1d173}-\u{1d17a}\ue000-\uf8ff\u{f0000}-\u{ffffd}\u{100000}-\u{10fffd}\ufdd0-\ufdef\ufffe\uffff\u{1fffe}\u{1ffff}\u{2fffe}\u{2ffff}\u{3fffe}\u{3ffff}\u{4fffe}\u{4ffff}\u{5fffe}\u{5ffff}\u{6fffe}\u{6ffff}\u{7fffe}\u{7ffff}\u{8fffe}\u{8ffff}\u{9fffe}\u{9ffff}\u{afffe}\u{affff}\u{bfffe}\u{bffff}\u{cfffe}\u{cffff}\u{dfffe}\u{dffff}\u{efffe}\u{effff}\u{ffffe}\u{fffff}\u{10fffe}\u{10ffff}\ufffd\u0340\u0341\u200e\u200f\u202a-\u202e\u2ff0-\u2ffb\u{e0001}\u{e0020}-\u{e007f}]/u;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes PostgreSQL feeds to PBKDF2 for this password; a fresh buffer the caller wipes. */
export function saslprepPassword(password: Buffer): Buffer {
  if (password.every((byte) => byte < 0x80)) return Buffer.from(password);
  let text: string;
  try {
    text = utf8.decode(password);
  } catch {
    return Buffer.from(password);
  }
  const prepared = text.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
  if (prepared === '' || PROHIBITED.test(prepared)) return Buffer.from(password);
  return Buffer.from(prepared, 'utf8');
}
