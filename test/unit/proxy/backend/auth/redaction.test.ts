import { Writable } from 'node:stream';
import { format, inspect } from 'node:util';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Md5Hash } from '../../../../../src/proxy/backend/auth/md5-password.js';
import { parseScramVerifier } from '../../../../../src/proxy/backend/auth/scram-verifier.js';
import { Md5SessionSecret, PasswordSessionSecret, ScramSessionSecret, TrustSessionSecret, type SessionSecret } from '../../../../../src/proxy/backend/auth/session-secret.js';
import { RFC7677 } from './scram-vectors.js';

const clientKey = Buffer.from(RFC7677.clientKeyHex, 'hex');
const verifier = parseScramVerifier(RFC7677.verifier);
const md5 = new Md5Hash(Buffer.from('md57541d4e65fae11bd07f18dc6fe2b02bc'));
const password = 'correct horse battery staple';

/** Every way the key bytes could show up in text. */
function renderings(bytes: Buffer): string[] {
  const spacedHex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return [bytes.toString('hex'), bytes.toString('base64'), spacedHex.slice(0, 23), bytes.toString('latin1').slice(0, 8), [...bytes].slice(0, 6).join(',')];
}

const cases: Array<[string, () => SessionSecret, Buffer[]]> = [
  ['scram', () => new ScramSessionSecret(clientKey, verifier.serverKey, verifier.salt, 4096), [clientKey, verifier.serverKey]],
  ['md5', () => new Md5SessionSecret(md5), [md5.hex]],
  ['password', () => new PasswordSessionSecret(password), [Buffer.from(password)]],
];

/** Plain pino, not test/support/log-capture.ts: without the router's redact paths the secret must hide itself. */
function memoryLogger(): { logger: pino.Logger; output: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), output: () => text };
}

describe.each(cases)('a %s session secret', (kind, make, keys) => {
  function expectNoKey(text: string, where: string): void {
    for (const key of keys) for (const form of renderings(key)) expect(text.includes(form), `${where} shows no key bytes`).toBe(false);
  }

  it('prints [redacted] through JSON.stringify, alone and nested', () => {
    const secret = make();
    expect(JSON.stringify(secret)).toBe(`{"kind":"${kind}","secret":"[redacted]"}`);
    const nested = JSON.stringify({ session: { user: 'app', secret }, list: [secret] });
    expect(nested.includes('[redacted]')).toBe(true);
    expectNoKey(nested, 'JSON');
  });

  it('prints [redacted] through util.inspect, console formats and String()', () => {
    const secret = make();
    for (const text of [
      inspect(secret),
      inspect({ deep: { deeper: { secret } } }, { depth: Infinity, showHidden: true }),
      inspect(secret, { customInspect: false, showHidden: true, getters: true, depth: Infinity }),
      format('%o %O %j %s', secret, secret, secret, secret),
      String(secret),
      `${secret}`,
    ]) {
      expectNoKey(text, 'inspect');
    }
    expect(inspect(secret)).toMatch(/\[redacted\]/);
  });

  it('prints [redacted] through pino at every level, also as the error of a line', () => {
    const secret = make();
    const { logger, output } = memoryLogger();
    logger.info({ secret }, 'session started');
    logger.trace({ session: { secret } }, 'trace');
    logger.error({ err: new Error('boom'), secret }, 'failed');
    logger.info(secret as unknown as object, 'merged');
    expect(output().includes('[redacted]')).toBe(true);
    expectNoKey(output(), 'pino');
  });

  it('exposes nothing through keys, spreading or structuredClone', () => {
    const secret = make();
    const spread = JSON.stringify({ ...secret });
    expectNoKey(spread, 'spread');
    // Only what is safe to print is an own property.
    for (const key of Object.keys(secret)) expect(['kind', 'iterations']).toContain(key);
    expectNoKey(JSON.stringify(Object.values(structuredClone(secret) as object)), 'structuredClone');
  });

  it('zero-fills its buffers on wipe, then refuses to be used', () => {
    const secret = make();
    const held: Buffer[] =
      secret.kind === 'scram' ? [secret.clientKey, secret.serverKey, secret.salt] : secret.kind === 'md5' ? [secret.hash.hex] : secret.kind === 'password' ? [secret.password] : [];
    secret.wipe();
    expect(secret.wiped).toBe(true);
    for (const buffer of held) expect(buffer.every((byte) => byte === 0)).toBe(true);
    if (secret.kind === 'scram') expect(() => secret.clientKey).toThrow(/wiped/);
    if (secret.kind === 'md5') expect(() => secret.hash).toThrow(/wiped/);
    if (secret.kind === 'password') expect(() => secret.password).toThrow(/wiped/);
  });
});

describe('other secrets print redacted too', () => {
  it('verifier, md5 hash and trust', () => {
    expect(JSON.stringify(parseScramVerifier(RFC7677.verifier))).toBe('{"kind":"scram-verifier","secret":"[redacted]"}');
    expect(inspect(md5)).toBe('Md5Hash [redacted]');
    expect(JSON.stringify(new TrustSessionSecret())).toBe('{"kind":"trust","secret":"[redacted]"}');
  });

  it('a session secret copies what it is given: wiping the source leaves it intact', () => {
    const source = new Md5Hash(Buffer.from('md57541d4e65fae11bd07f18dc6fe2b02bc'));
    const secret = new Md5SessionSecret(source);
    source.wipe();
    expect(secret.hash.hex.every((byte) => byte === 0)).toBe(false);
    const key = Buffer.from(clientKey);
    const scram = new ScramSessionSecret(key, verifier.serverKey, verifier.salt, 4096);
    key.fill(0);
    expect(scram.clientKey.equals(clientKey)).toBe(true);
  });
});
