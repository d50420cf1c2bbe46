import { describe, expect, it } from 'vitest';
import type { AuthQueryResult } from '../../../../../src/proxy/backend/auth/auth-query.js';
import { Md5Hash } from '../../../../../src/proxy/backend/auth/md5-password.js';
import { SecretCache } from '../../../../../src/proxy/backend/auth/secret-cache.js';
import { manualClock, type ManualClock } from '../../../../support/manual-clock.js';

const MD5 = Buffer.from('md57541d4e65fae11bd07f18dc6fe2b02bc');

function usable(user: string, expiresInSeconds: number | null = null): AuthQueryResult {
  return { usable: true, user, secret: new Md5Hash(MD5), expiresInSeconds };
}

/** A lookup that records calls and answers when told to. */
function controlledLookup() {
  const calls: string[] = [];
  const pending: Array<{ user: string; resolve: (r: AuthQueryResult) => void; reject: (e: Error) => void }> = [];
  const issued: AuthQueryResult[] = [];
  const lookup = (user: string) =>
    new Promise<AuthQueryResult>((resolve, reject) => {
      calls.push(user);
      pending.push({ user, resolve, reject });
    });
  const answer = (result: AuthQueryResult) => {
    const next = pending.shift();
    if (!next) throw new Error('no lookup pending');
    issued.push(result);
    next.resolve(result);
  };
  const fail = (error: Error) => pending.shift()?.reject(error);
  return { calls, lookup, answer, fail, issued };
}

const clock = (start = 1_000_000): ManualClock => manualClock(start);

describe('SecretCache', () => {
  it('reuses a usable secret within the TTL, asks again after it', async () => {
    const time = clock();
    const db = controlledLookup();
    const cache = new SecretCache({ lookup: db.lookup, ttlMs: 10_000, maxEntries: 10, now: time.now });
    const first = cache.get('app');
    db.answer(usable('app'));
    expect((await first).usable).toBe(true);
    time.advance(9_999);
    expect((await cache.get('app')).usable).toBe(true);
    expect(db.calls).toEqual(['app']);
    time.advance(1);
    const third = cache.get('app');
    expect(db.calls).toEqual(['app', 'app']);
    db.answer(usable('app'));
    await third;
  });

  it('hands every caller its own copy; wiping one leaves the cache intact', async () => {
    const db = controlledLookup();
    const cache = new SecretCache({ lookup: db.lookup, ttlMs: 10_000, maxEntries: 10, now: clock().now });
    const [a, b] = [cache.get('app'), cache.get('app')];
    db.answer(usable('app'));
    const [ra, rb] = await Promise.all([a, b]);
    if (!ra.usable || !rb.usable) throw new Error('expected usable');
    expect(ra.secret).not.toBe(rb.secret);
    ra.secret.wipe();
    const rc = await cache.get('app');
    expect(rc.usable && !rc.secret.wiped).toBe(true);
    expect(db.issued[0]?.usable && !db.issued[0].secret.wiped).toBe(true);
  });

  it('coalesces concurrent lookups of one user into one query', async () => {
    const db = controlledLookup();
    const cache = new SecretCache({ lookup: db.lookup, ttlMs: 0, maxEntries: 10, now: clock().now });
    const waiting = [cache.get('app'), cache.get('app'), cache.get('app'), cache.get('other')];
    expect(db.calls).toEqual(['app', 'other']);
    db.answer(usable('app'));
    db.answer(usable('other'));
    const results = await Promise.all(waiting);
    expect(results.map((r) => r.usable)).toEqual([true, true, true, true]);
    // TTL 0: nothing kept; the original was wiped once every waiter had its copy.
    expect(cache.size).toBe(0);
    expect(db.issued.every((r) => r.usable && r.secret.wiped)).toBe(true);
    cache.get('app');
    expect(db.calls).toEqual(['app', 'other', 'app']);
  });

  it('never keeps a missing, NOLOGIN or expired user', async () => {
    const db = controlledLookup();
    const cache = new SecretCache({ lookup: db.lookup, ttlMs: 60_000, maxEntries: 10, now: clock().now });
    for (const reason of ['not-found', 'no-login', 'expired'] as const) {
      const pending = cache.get('u');
      db.answer({ usable: false, user: 'u', reason, detail: '' });
      expect(await pending).toMatchObject({ usable: false, reason });
    }
    expect(db.calls).toEqual(['u', 'u', 'u']);
    expect(cache.size).toBe(0);
  });

  it('keeps a secret no longer than the role is valid', async () => {
    const time = clock();
    const db = controlledLookup();
    const cache = new SecretCache({ lookup: db.lookup, ttlMs: 60_000, maxEntries: 10, now: time.now });
    const first = cache.get('app');
    db.answer(usable('app', 5));
    await first;
    time.advance(4_999);
    await cache.get('app');
    expect(db.calls).toHaveLength(1);
    time.advance(1);
    cache.get('app');
    expect(db.calls).toHaveLength(2);
    expect(db.issued[0]?.usable && db.issued[0].secret.wiped).toBe(true);
  });

  it('is bounded: the least recently used entry goes, wiped', async () => {
    const db = controlledLookup();
    const cache = new SecretCache({ lookup: db.lookup, ttlMs: 60_000, maxEntries: 2, now: clock().now });
    for (const user of ['a', 'b']) {
      const p = cache.get(user);
      db.answer(usable(user));
      await p;
    }
    await cache.get('a'); // a is now the most recent
    const c = cache.get('c');
    db.answer(usable('c'));
    await c;
    expect(cache.size).toBe(2);
    expect(db.issued[1]?.usable && db.issued[1].secret.wiped).toBe(true); // b evicted
    await cache.get('a');
    expect(db.calls).toEqual(['a', 'b', 'c']);
  });

  it('does not keep an answer that was invalidated while it was being fetched', async () => {
    const db = controlledLookup();
    const cache = new SecretCache({ lookup: db.lookup, ttlMs: 60_000, maxEntries: 10, now: clock().now });
    const pending = cache.get('app');
    cache.invalidate('app');
    db.answer(usable('app'));
    expect((await pending).usable).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('forgets on invalidate, shares failures without keeping them, and clears with a wipe', async () => {
    const db = controlledLookup();
    const cache = new SecretCache({ lookup: db.lookup, ttlMs: 60_000, maxEntries: 10, now: clock().now });
    const [a, b] = [cache.get('app'), cache.get('app')];
    db.fail(new Error('connection lost'));
    await expect(a).rejects.toThrow('connection lost');
    await expect(b).rejects.toThrow('connection lost');
    const c = cache.get('app');
    db.answer(usable('app'));
    await c;
    cache.invalidate('app');
    expect(cache.size).toBe(0);
    const d = cache.get('app');
    db.answer(usable('app'));
    await d;
    cache.clear();
    expect(cache.size).toBe(0);
    expect(db.issued.every((r) => r.usable && r.secret.wiped)).toBe(true);
  });

  it('turns a lookup that throws at once into a rejection', async () => {
    const cache = new SecretCache({
      lookup: () => {
        throw new Error('not connected');
      },
      ttlMs: 1,
      maxEntries: 1,
    });
    await expect(cache.get('x')).rejects.toThrow('not connected');
  });
});
