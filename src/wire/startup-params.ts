/**
 * Startup parameters: the null-terminated name/value pairs after the protocol version.
 * Kept in a prototype-less record so a client sending `__proto__` cannot touch Object.prototype.
 */
export type StartupParams = Record<string, string>;

export function emptyParams(): StartupParams {
  return Object.create(null) as StartupParams;
}

/** Parses `name\0value\0...\0`; returns an error sentence on malformed input. */
export function parseStartupParams(body: Buffer): { params: StartupParams } | { error: string } {
  const params = emptyParams();
  let offset = 0;
  while (offset < body.length) {
    if (body[offset] === 0) {
      if (offset !== body.length - 1) return { error: 'invalid startup packet layout: data after the final terminator' };
      return { params };
    }
    const nameEnd = body.indexOf(0, offset);
    if (nameEnd < 0) return { error: 'invalid startup packet layout: expected terminator as last byte' };
    const valueEnd = body.indexOf(0, nameEnd + 1);
    if (valueEnd < 0) return { error: `invalid startup packet layout: parameter "${body.toString('utf8', offset, nameEnd)}" has no value` };
    params[body.toString('utf8', offset, nameEnd)] = body.toString('utf8', nameEnd + 1, valueEnd);
    offset = valueEnd + 1;
  }
  return { error: 'invalid startup packet layout: expected terminator as last byte' };
}
