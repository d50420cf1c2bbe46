import { copyAuthQueryResult, wipeAuthQueryResult, type AuthQueryResult } from './auth-query.js';

export interface SecretCacheOptions {
  /** Runs the auth query for one user (typically AuthQueryClient.lookup on a connection to the primary). */
  lookup: (user: string) => Promise<AuthQueryResult>;
  /** How long a usable secret is reused; 0 keeps nothing and only coalesces concurrent lookups. */
  ttlMs: number;
  /** Entries kept at most; the least recently used goes first. */
  maxEntries: number;
  /** Milliseconds; injected so tests control time. */
  now?: () => number;
}

interface Entry {
  result: AuthQueryResult & { usable: true };
  expiresAt: number;
}

interface Flight {
  promise: Promise<AuthQueryResult>;
  waiters: number;
  /** The result became the cache's entry (so waiters copy it and nobody wipes it). */
  kept: boolean;
  /** invalidate() was called while the query ran: its answer may predate the change. */
  stale: boolean;
}

/**
 * Auth query results, briefly. Only usable secrets are kept, and never beyond the role's own
 * VALID UNTIL; a missing, NOLOGIN or expired user is asked for again every time (PostgreSQL may
 * have been told otherwise since). Concurrent lookups of one user share one query. Every caller
 * receives its own copy of the secret and must wipe it; the cache wipes what it drops.
 */
export class SecretCache {
  private readonly entries = new Map<string, Entry>();
  private readonly flights = new Map<string, Flight>();
  private readonly now: () => number;

  constructor(private readonly options: SecretCacheOptions) {
    if (!(options.ttlMs >= 0) || !Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError('SecretCache needs ttlMs >= 0 and maxEntries >= 1');
    }
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The user's secret, from the cache or the auth query. The caller owns (and wipes) the result. */
  get(user: string): Promise<AuthQueryResult> {
    const entry = this.entries.get(user);
    if (entry && entry.expiresAt > this.now()) {
      // Least recently used first: re-insert on every hit.
      this.entries.delete(user);
      this.entries.set(user, entry);
      return Promise.resolve(copyAuthQueryResult(entry.result));
    }
    if (entry) this.drop(user);
    const flight = this.flights.get(user) ?? this.startLookup(user);
    flight.waiters++;
    return flight.promise.then(
      (result) => {
        const copy = copyAuthQueryResult(result);
        if (--flight.waiters === 0 && !flight.kept) wipeAuthQueryResult(result);
        return copy;
      },
      (error: unknown) => {
        flight.waiters--;
        throw error;
      },
    );
  }

  /** Forget the user's secret, e.g. when it no longer matches what a member uses (password changed). */
  invalidate(user: string): void {
    const flight = this.flights.get(user);
    if (flight) flight.stale = true;
    this.drop(user);
  }

  /** Wipes and forgets everything (the router is stopping). */
  clear(): void {
    for (const user of [...this.entries.keys()]) this.drop(user);
  }

  private startLookup(user: string): Flight {
    // The handlers below run later, once `flight` is assigned. They are registered before any
    // waiter's, so the entry is settled before the waiters take their copies.
    // new Promise(...) also turns a lookup that throws synchronously into a rejection.
    const promise = new Promise<AuthQueryResult>((resolve) => resolve(this.options.lookup(user))).then(
      (result) => {
        this.flights.delete(user);
        flight.kept = !flight.stale && this.keep(user, result);
        return result;
      },
      (error: unknown) => {
        this.flights.delete(user);
        throw error;
      },
    );
    const flight: Flight = { promise, waiters: 0, kept: false, stale: false };
    this.flights.set(user, flight);
    return flight;
  }

  private keep(user: string, result: AuthQueryResult): boolean {
    if (!result.usable || this.options.ttlMs === 0) return false;
    const now = this.now();
    const untilExpiry = result.expiresInSeconds === null ? Infinity : result.expiresInSeconds * 1000;
    const lifetime = Math.min(this.options.ttlMs, untilExpiry);
    if (lifetime <= 0) return false;
    this.drop(user);
    this.entries.set(user, { result, expiresAt: now + lifetime });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.drop(oldest);
    }
    return true;
  }

  private drop(user: string): void {
    const entry = this.entries.get(user);
    if (!entry) return;
    this.entries.delete(user);
    wipeAuthQueryResult(entry.result);
  }
}
