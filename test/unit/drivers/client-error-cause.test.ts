import { describe, expect, it } from 'vitest';
import { classifyClientError } from '../../support/client-error-cause.js';

describe('classifyClientError', () => {
  it("names the router's fencing and the member it fenced", () => {
    expect(classifyClientError('57P01', 'terminating connection: pg0 is no longer the primary (leader is pg1)')).toEqual({ cause: 'router-fencing', member: 'pg0' });
    // psycopg's failed login: libpq's own words around the router's FATAL, no SQLSTATE.
    expect(
      classifyClientError(
        undefined,
        'connection failed: FATAL:  terminating connection: pg0 is no longer the primary of cluster batman (leader pg0 is not running (state: restarting))',
      ),
    ).toEqual({ cause: 'router-fencing', member: 'pg0' });
  });

  it("tells the member's own shutdown from the router's words", () => {
    expect(classifyClientError('57P01', 'terminating connection due to administrator command')).toEqual({ cause: 'member-shutdown' });
    expect(classifyClientError('57P03', 'the database system is shutting down')).toEqual({ cause: 'member-shutdown' });
    expect(classifyClientError('57P03', 'patroni-router listener "primary": no primary')).toEqual({ cause: 'router-hold-timeout' });
  });

  it('reads a cut connection in node-postgres and in pgjdbc words', () => {
    expect(classifyClientError(undefined, 'Connection terminated unexpectedly')).toEqual({ cause: 'connection-lost' });
    expect(classifyClientError('08006', 'An I/O error occurred while sending to the backend.')).toEqual({ cause: 'connection-lost' });
    expect(classifyClientError('08003', 'This connection has been closed.')).toEqual({ cause: 'connection-lost' });
    // A protocol violation from a server is not a cut connection.
    expect(classifyClientError('08P01', 'invalid frontend message type 0')).toEqual({ cause: 'other' });
  });

  it('counts a write on a read-only server', () => {
    expect(classifyClientError('25006', 'cannot execute INSERT in a read-only transaction')).toEqual({ cause: 'read-only-write' });
  });
});
