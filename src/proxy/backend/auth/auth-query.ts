import { DEFAULT_AUTH_SCHEMA, AUTH_FUNCTION } from './auth-setup.js';
import { checkedName, quoteIdentifier } from './sql-identifier.js';
import { readStoredSecret, type StoredSecret } from './stored-secret.js';

/** The OID of type `name`: the query's one parameter is sent with it, so no cast or overload is guessed. */
export const NAME_TYPE_OID = 19;

/**
 * The one query the router sends on its auth connection. Fixed text: schema-qualified, the user
 * as parameter $1 of a Parse/Bind (never spliced into the text), and nothing in it or in the auth
 * connection's startup comes from a client. (PgBouncer CVE-2025-12819: an unqualified auth query
 * run where a client-supplied search_path applied let a client choose which function ran.)
 */
export function authQueryText(schema: string = DEFAULT_AUTH_SCHEMA): string {
  const schemaId = quoteIdentifier(checkedName(schema, 'schema'));
  return `SELECT username, secret, valid_until, can_login, expires_in FROM ${schemaId}.${AUTH_FUNCTION}($1)`;
}

export type UnusableReason = 'not-found' | 'no-login' | 'expired' | 'no-password' | 'unsupported-secret';

export type AuthQueryResult =
  | {
      usable: true;
      user: string;
      secret: StoredSecret;
      /** Seconds until VALID UNTIL by the server's clock; null when the role never expires. */
      expiresInSeconds: number | null;
    }
  | { usable: false; user: string; reason: UnusableReason; detail: string };

/** One DataRow in text format: each column's bytes, or null. */
export type TextRow = Array<Buffer | null>;

export class AuthQueryAnswerError extends Error {}

/**
 * What the auth query's rows say about `user`. A role that may not log in, has expired or has no
 * usable secret is never "usable": the router then opens no extra link for it (the client's own
 * login, judged by PostgreSQL, is untouched).
 */
export function readAuthQueryRows(user: string, rows: TextRow[]): AuthQueryResult {
  if (rows.length === 0) return { usable: false, user, reason: 'not-found', detail: 'no such role, or a superuser (not served by the auth query)' };
  const [row, ...more] = rows;
  if (!row || more.length > 0) throw new AuthQueryAnswerError(`the auth query returned ${rows.length} rows for one role`);
  if (row.length !== 5) throw new AuthQueryAnswerError(`the auth query returned ${row.length} columns, expected 5`);
  const [username, secret, , canLogin, expiresIn] = row;
  if (username?.toString('utf8') !== user) throw new AuthQueryAnswerError('the auth query returned another role than the one asked for');
  if (canLogin?.toString('latin1') !== 't') return { usable: false, user, reason: 'no-login', detail: 'the role has NOLOGIN' };
  const expiresInSeconds = expiresIn === null || expiresIn === undefined ? null : Number(expiresIn.toString('latin1'));
  if (expiresInSeconds !== null && Number.isNaN(expiresInSeconds)) {
    throw new AuthQueryAnswerError('the auth query returned an unreadable expiry');
  }
  if (expiresInSeconds !== null && expiresInSeconds <= 0) return { usable: false, user, reason: 'expired', detail: 'the role is past its VALID UNTIL' };
  const reading = readStoredSecret(secret ?? null);
  if (!reading.usable) {
    return { usable: false, user, reason: reading.reason === 'empty' ? 'no-password' : 'unsupported-secret', detail: reading.detail };
  }
  return { usable: true, user, secret: reading.secret, expiresInSeconds };
}

/** An independent copy (the secret's own buffers), for a caller that will wipe what it holds. */
export function copyAuthQueryResult(result: AuthQueryResult): AuthQueryResult {
  return result.usable ? { ...result, secret: result.secret.copy() } : { ...result };
}

export function wipeAuthQueryResult(result: AuthQueryResult): void {
  if (result.usable) result.secret.wipe();
}
