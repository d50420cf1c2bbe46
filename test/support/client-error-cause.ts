/**
 * Who caused a client's error during a failover, from what the client was told: the member's
 * own shutdown or crash (57P01 from PostgreSQL itself), the router's fencing (and of which
 * member), the router's hold time-out, a write refused by a read-only server, or a connection
 * that was simply cut.
 */
export type ErrorCause = 'member-shutdown' | 'router-fencing' | 'router-hold-timeout' | 'read-only-write' | 'connection-lost' | 'other';

export interface ClassifiedError {
  cause: ErrorCause;
  /** For router-fencing: the member the router said is no longer eligible. */
  member?: string;
}

export function classifyClientError(code: string | undefined, message: string): ClassifiedError {
  if (code === '25006') return { cause: 'read-only-write' };
  if (code === '57P01' && message.startsWith('terminating connection: ')) {
    const named = /^terminating connection: (\S+) is no longer/.exec(message);
    return named?.[1] !== undefined ? { cause: 'router-fencing', member: named[1] } : { cause: 'router-fencing' };
  }
  // libpq (psycopg) reports a FATAL that ends a login as "connection failed: FATAL:  ...", without its SQLSTATE.
  const loginCut = code === undefined ? /FATAL:\s+terminating connection: (\S+) is no longer/.exec(message) : null;
  if (loginCut?.[1] !== undefined) return { cause: 'router-fencing', member: loginCut[1] };
  if (code === '57P01' || code === '57P02' || (code === '57P03' && !message.startsWith('patroni-router'))) return { cause: 'member-shutdown' };
  // libpq (psycopg) reports a FATAL that arrives with the connection's end without its SQLSTATE.
  if (code === undefined && /terminating connection due to (administrator command|unexpected postmaster exit)/.test(message)) return { cause: 'member-shutdown' };
  if (message.startsWith('patroni-router listener')) return { cause: 'router-hold-timeout' };
  // pgjdbc says a connection broke with its own SQLSTATEs: 08006 "An I/O error occurred while
  // sending to the backend.", 08003 "This connection has been closed."
  if (code === '08006' || code === '08003') return { cause: 'connection-lost' };
  if (
    /terminated unexpectedly|ECONNRESET|EPIPE|connection error|Connection terminated|socket hang up|This socket has been ended|server closed the connection unexpectedly|consuming input failed/i.test(
      message,
    )
  )
    return { cause: 'connection-lost' };
  return { cause: 'other' };
}
