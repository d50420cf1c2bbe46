import net from 'node:net';

export class InvalidSqlName extends Error {}

// NAMEDATALEN - 1: PostgreSQL truncates longer names, so two configured names could collide.
const MAX_NAME_BYTES = 63;

/**
 * A role or schema name the setup SQL and the auth query embed. Only plain identifiers (letters,
 * digits, underscores) are accepted, and they are still always double-quoted: the names come from
 * the operator's configuration, yet they end up inside DO blocks, literals and dollar-quoted
 * bodies, where the narrow alphabet keeps every quoting context trivially safe.
 */
export function checkedName(name: string, what: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new InvalidSqlName(`${what} ${JSON.stringify(name)} must be letters, digits and underscores, not starting with a digit`);
  }
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) throw new InvalidSqlName(`${what} is longer than ${MAX_NAME_BYTES} bytes`);
  // PostgreSQL reserves the prefix for its own roles and schemas.
  if (name.startsWith('pg_')) throw new InvalidSqlName(`${what} ${JSON.stringify(name)} uses the reserved prefix "pg_"`);
  return name;
}

/** "name", with embedded quotes doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** 'text', with embedded quotes doubled (standard_conforming_strings is on since 9.1; no backslashes pass checkedName). */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A database name for a pg_hba line: quoted there, so anything but quotes, commas, blanks and controls. */
export function checkedDatabaseName(name: string): string {
  if (name === '' || /["\s,\x00-\x1f\x7f]/.test(name)) throw new InvalidSqlName(`database ${JSON.stringify(name)} cannot be written in a pg_hba line`);
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) throw new InvalidSqlName('database name is longer than 63 bytes');
  return name;
}

/** An address/prefix for pg_hba: an IPv4 or IPv6 address with a prefix length, e.g. 10.0.0.5/32. */
export function checkedHbaAddress(address: string): string {
  const [ip, prefix, extra] = address.split('/');
  const family = ip === undefined ? 0 : net.isIP(ip);
  const bits = Number(prefix);
  if (family === 0 || extra !== undefined || prefix === undefined || !/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) {
    throw new InvalidSqlName(`address ${JSON.stringify(address)} is not an IP address with a prefix length, such as 10.0.0.5/32`);
  }
  return address;
}
