import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Does an `Authorization` header carry the admin token? Compared in constant time; both sides
 * are hashed first so their lengths do not leak through timingSafeEqual's length check either.
 */
export function bearerTokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) return false;
  const given = createHash('sha256').update(match[1]!).digest();
  const wanted = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, wanted);
}
