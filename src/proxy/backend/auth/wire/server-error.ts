/** The fields of an ErrorResponse the authentication code acts on. */
export interface ServerError {
  severity: string;
  /** SQLSTATE, e.g. 28P01 (invalid password). */
  code: string;
  message: string;
  detail?: string;
}

/**
 * Reads an ErrorResponse/NoticeResponse body. Tolerant as libpq is: missing fields become empty
 * strings rather than a second error hiding the server's. (src/proxy/wire has a map-returning
 * twin; this one stays here until the wire vocabulary is merged.)
 */
export function parseServerError(body: Buffer): ServerError {
  const fields = new Map<string, string>();
  let offset = 0;
  while (offset < body.length && body[offset] !== 0) {
    const end = body.indexOf(0, offset + 1);
    if (end < 0) break;
    fields.set(String.fromCharCode(body[offset] as number), body.toString('utf8', offset + 1, end));
    offset = end + 1;
  }
  const detail = fields.get('D');
  return {
    severity: fields.get('V') ?? fields.get('S') ?? '',
    code: fields.get('C') ?? '',
    message: fields.get('M') ?? '',
    ...(detail !== undefined ? { detail } : {}),
  };
}
