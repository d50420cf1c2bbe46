/**
 * pgbench's error lines as client errors. pgbench prints libpq's message without its
 * SQLSTATE, so the code is read back from PostgreSQL's and the router's own wording (the
 * few texts a failover produces); what it cannot place keeps no code. Pure.
 */
import { classifyClientError, type ClassifiedError } from '../../test/support/client-error-cause.js';

export interface PgbenchError {
  code?: string;
  /** The server's message without libpq's "FATAL:  " prefix, or libpq's own words. */
  message: string;
  classified: ClassifiedError;
}

/** Server texts whose SQLSTATE is fixed, in PostgreSQL 15's and the router's words. */
const KNOWN_CODES: ReadonlyArray<[RegExp, string]> = [
  [/in a read-only transaction/, '25006'],
  [/is in hot standby \(read-only\)/, '25006'],
  // The router's fencing, not-moved and move-timeout texts, and PostgreSQL's own shutdown.
  [/^terminating connection: /, '57P01'],
  [/^terminating connection due to administrator command/, '57P01'],
  [/^terminating connection because of crash of another server process/, '57P02'],
  [/^the database system is (shutting down|starting up|not yet accepting connections|in recovery mode)/, '57P03'],
  [/^sorry, too many clients already|^remaining connection slots are reserved/, '53300'],
  [/^patroni-router listener .*\(waited /, '57P03'],
];

/** libpq's words for a connection that went away under it. */
const CONNECTION_LOST =
  /server closed the connection unexpectedly|perhaps the backend died while processing|terminated abnormally|could not receive data from server|could not send data to server|Connection refused|no connection to the server|connection to server .* failed: (?!FATAL|ERROR)/;

/** undefined for lines that are not one client's error (pgbench's own "Run was aborted"). */
export function parsePgbenchErrorLine(line: string): PgbenchError | undefined {
  if (!line.startsWith('pgbench: error: ')) return undefined;
  const text = line.slice('pgbench: error: '.length);
  // pgbench's summary once every client has stopped: each client's own line came before it.
  if (text.startsWith('Run was aborted')) return undefined;
  const server = /(?:^|: )(FATAL|ERROR):\s+(.*)$/.exec(text);
  const message = server?.[2]?.trim() ?? text;
  const code = KNOWN_CODES.find(([pattern]) => pattern.test(message))?.[1];
  if (server === null && CONNECTION_LOST.test(text)) return { message, classified: { cause: 'connection-lost' } };
  return { ...(code === undefined ? {} : { code }), message, classified: classifyClientError(code, message) };
}
