import { pbkdf2Sync, createHmac, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ScramObserver } from '../../../../../src/proxy/backend/auth/scram-observer.js';
import { parseScramVerifier, ScramVerifier } from '../../../../../src/proxy/backend/auth/scram-verifier.js';
import type { Frame } from '../../../../../src/wire/frame-reader.js';
import { AuthCode } from '../../../../../src/wire/message-codes.js';
import { authentication, authenticationOk, authenticationSasl, errorResponse, saslInitialResponse, saslResponse } from '../../../../../src/wire/serializer.js';
import { frameOf, message } from '../../../../support/test-buffers.js';
import { expectSameBytes, POSTGRES_STYLE, relayedExchange, VECTORS, type ScramVector } from './scram-vectors.js';

function observeAll(vector: ScramVector, options: Parameters<typeof relayedExchange>[1] = {}): ScramObserver {
  const { server, client } = relayedExchange(vector, options);
  const observer = new ScramObserver();
  observer.fromServer(server.saslOffer);
  observer.fromClient(client.initial);
  observer.fromServer(server.serverFirst);
  observer.fromClient(client.clientFinal);
  observer.fromServer(server.serverFinal);
  observer.fromServer(server.ok);
  return observer;
}

/** A verifier for another password (same salt and iterations unless told otherwise). */
function verifierFor(password: string, salt: Buffer, iterations: number): ScramVerifier {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return new ScramVerifier(iterations, salt, createHash('sha256').update(clientKey).digest(), serverKey);
}

describe.each(VECTORS)('ScramObserver on the $name exchange', (vector) => {
  it('yields the ClientKey once the server said SASLFinal and Ok', () => {
    const observer = observeAll(vector);
    expect(observer.observation).toEqual({ status: 'authenticated' });
    const extraction = observer.extract(parseScramVerifier(vector.verifier));
    if (!extraction.ok) throw new Error(extraction.detail);
    expectSameBytes(extraction.secret.clientKey, Buffer.from(vector.clientKeyHex, 'hex'), 'ClientKey');
    expect(extraction.secret.iterations).toBe(4096);
    expectSameBytes(extraction.secret.serverKey, parseScramVerifier(vector.verifier).serverKey, 'ServerKey');
  });

  it('extracts once: the proof is wiped afterwards', () => {
    const observer = observeAll(vector);
    expect(observer.extract(parseScramVerifier(vector.verifier)).ok).toBe(true);
    expect(observer.extract(parseScramVerifier(vector.verifier))).toMatchObject({ ok: false, reason: 'not-authenticated' });
  });

  it('has nothing before AuthenticationOk', () => {
    const { server, client } = relayedExchange(vector);
    const observer = new ScramObserver();
    observer.fromServer(server.saslOffer);
    observer.fromClient(client.initial);
    observer.fromServer(server.serverFirst);
    observer.fromClient(client.clientFinal);
    observer.fromServer(server.serverFinal);
    expect(observer.observation).toEqual({ status: 'observing' });
    expect(observer.extract(parseScramVerifier(vector.verifier))).toMatchObject({ ok: false, reason: 'not-authenticated' });
  });
});

describe('ScramObserver: no key', () => {
  const verifier = parseScramVerifier(POSTGRES_STYLE.verifier);

  it('on a wrong proof: the server refuses, 28P01, and there is nothing to extract', () => {
    const { server, client } = relayedExchange(POSTGRES_STYLE);
    const observer = new ScramObserver();
    observer.fromServer(server.saslOffer);
    observer.fromClient(client.initial);
    observer.fromServer(server.serverFirst);
    observer.fromClient(client.clientFinal);
    observer.fromServer(frameOf(errorResponse({ severity: 'FATAL', code: '28P01', message: 'password authentication failed for user "app"' })));
    expect(observer.observation).toEqual({ status: 'refused', sqlstate: '28P01', message: 'password authentication failed for user "app"' });
    expect(observer.extract(verifier).ok).toBe(false);
  });

  it('on a proof that does not match the StoredKey, even if something said Ok', () => {
    const tampered = { ...POSTGRES_STYLE };
    const proof = Buffer.from(POSTGRES_STYLE.clientFinal.split(',p=')[1] ?? '', 'base64');
    proof[0] = (proof[0] as number) ^ 1;
    tampered.clientFinal = `${POSTGRES_STYLE.clientFinal.split(',p=')[0]},p=${proof.toString('base64')}`;
    const extraction = observeAll(tampered).extract(verifier);
    expect(extraction).toMatchObject({ ok: false, reason: 'proof-mismatch' });
  });

  it('with a stale verifier (another password, same salt): mismatch, kept for a retry', () => {
    const observer = observeAll(POSTGRES_STYLE);
    const stale = verifierFor('old password', verifier.salt, 4096);
    expect(observer.extract(stale)).toMatchObject({ ok: false, reason: 'verifier-mismatch' });
    expect(observer.extract(verifier).ok).toBe(true);
  });

  it('with a verifier of another salt or iteration count', () => {
    const observer = observeAll(POSTGRES_STYLE);
    expect(observer.extract(verifierFor(POSTGRES_STYLE.password, Buffer.alloc(16, 9), 4096))).toMatchObject({ reason: 'verifier-mismatch' });
    expect(observer.extract(verifierFor(POSTGRES_STYLE.password, verifier.salt, 4097))).toMatchObject({ reason: 'verifier-mismatch' });
    observer.wipe();
    expect(observer.extract(verifier)).toMatchObject({ ok: false, reason: 'not-authenticated' });
  });

  it('when the client picked SCRAM-SHA-256-PLUS: extraction is impossible', () => {
    const cb = { ...POSTGRES_STYLE, clientFirst: `p=tls-server-end-point,,n=,r=${POSTGRES_STYLE.clientNonce}` };
    const { server, client } = relayedExchange(cb, { mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], mechanism: 'SCRAM-SHA-256-PLUS' });
    const observer = new ScramObserver();
    observer.fromServer(server.saslOffer);
    observer.fromClient(client.initial);
    expect(observer.observation).toMatchObject({ status: 'not-extractable', reason: 'channel-binding' });
    observer.fromServer(server.serverFirst);
    observer.fromServer(server.ok);
    expect(observer.observation).toMatchObject({ status: 'not-extractable', reason: 'channel-binding' });
  });

  it('when the client asks for channel binding (p=) under plain SCRAM-SHA-256', () => {
    const cb = { ...POSTGRES_STYLE, clientFirst: `p=tls-server-end-point,,n=,r=${POSTGRES_STYLE.clientNonce}` };
    const { server, client } = relayedExchange(cb);
    const observer = new ScramObserver();
    observer.fromServer(server.saslOffer);
    observer.fromClient(client.initial);
    expect(observer.observation).toMatchObject({ status: 'not-extractable', reason: 'channel-binding' });
  });

  it('accepts y (client could bind, thinks the server cannot): c= carries y,,', () => {
    const y = {
      ...POSTGRES_STYLE,
      clientFirst: `y,,n=,r=${POSTGRES_STYLE.clientNonce}`,
      clientFinal: POSTGRES_STYLE.clientFinal.replace('c=biws', 'c=eSws'),
    };
    expect(observeAll(y).observation).toEqual({ status: 'authenticated' });
  });

  it('for logins that are not SCRAM: md5, cleartext, trust', () => {
    for (const request of [authentication(AuthCode.MD5Password, Buffer.from([1, 2, 3, 4])), authentication(AuthCode.CleartextPassword), authenticationOk()]) {
      const observer = new ScramObserver();
      observer.fromServer(frameOf(request));
      expect(observer.observation).toMatchObject({ status: 'not-extractable', reason: 'not-scram' });
    }
    const observer = new ScramObserver();
    observer.fromServer(frameOf(authenticationSasl(['OAUTHBEARER'])));
    expect(observer.observation).toMatchObject({ status: 'not-extractable', reason: 'not-scram' });
  });

  it('ignores notices and messages after the end', () => {
    const { server, client } = relayedExchange(POSTGRES_STYLE);
    const notice = frameOf(message('N', Buffer.from('SNOTICE\0C00000\0Mhello\0\0')));
    const observer = new ScramObserver();
    observer.fromServer(notice);
    observer.fromServer(server.saslOffer);
    observer.fromClient(client.initial);
    observer.fromServer(notice);
    observer.fromServer(server.serverFirst);
    observer.fromClient(client.clientFinal);
    observer.fromServer(server.serverFinal);
    observer.fromServer(server.ok);
    observer.fromServer(frameOf(message('S', Buffer.from('a\0b\0'))));
    observer.fromClient(frameOf(message('Q', Buffer.from('select 1\0'))));
    expect(observer.observation).toEqual({ status: 'authenticated' });
  });
});

describe('ScramObserver: malformed or out-of-order exchanges are lost, never guessed', () => {
  const { server, client } = relayedExchange(POSTGRES_STYLE);
  const sasl = (data: string) => frameOf(authentication(AuthCode.SASLContinue, Buffer.from(data)));
  const final = (data: string) => frameOf(authentication(AuthCode.SASLFinal, Buffer.from(data)));
  const initial = (data: string, mechanism = 'SCRAM-SHA-256') => frameOf(saslInitialResponse(mechanism, Buffer.from(data)));
  const response = (data: string) => frameOf(saslResponse(Buffer.from(data)));
  const n = POSTGRES_STYLE.clientNonce;

  const cases: Array<[string, Array<['server' | 'client', Frame]>, RegExp]> = [
    ['a truncated R message', [['server', frameOf(message('R', Buffer.from([0, 0])))]], /malformed authentication request/],
    ['an unterminated mechanism list', [['server', frameOf(message('R', Buffer.from([0, 0, 0, 10, 0x41])))]], /not terminated/],
    [
      'a mechanism the server did not offer',
      [
        ['server', server.saslOffer],
        ['client', initial(POSTGRES_STYLE.clientFirst, 'SCRAM-SHA-1')],
      ],
      /did not offer/,
    ],
    [
      'a malformed SASLInitialResponse',
      [
        ['server', server.saslOffer],
        ['client', frameOf(message('p', Buffer.from('SCRAM-SHA-256\0\0\0\0\x09ab')))],
      ],
      /malformed SASLInitialResponse/,
    ],
    [
      'no initial data',
      [
        ['server', server.saslOffer],
        ['client', frameOf(message('p', Buffer.from('SCRAM-SHA-256\0\xff\xff\xff\xff', 'latin1')))],
      ],
      /without a client-first/,
    ],
    [
      'a malformed client-first',
      [
        ['server', server.saslOffer],
        ['client', initial('n,,r=abc')],
      ],
      /client-first-message/,
    ],
    [
      'a server nonce not continuing the client one',
      [
        ['server', server.saslOffer],
        ['client', client.initial],
        ['server', sasl('r=other123,s=QUJD,i=4096')],
      ],
      /client nonce/,
    ],
    [
      'a malformed server-first',
      [
        ['server', server.saslOffer],
        ['client', client.initial],
        ['server', sasl(`r=${n}x,s=QUJD`)],
      ],
      /server-first-message/,
    ],
    [
      'a client-final with the wrong nonce',
      [
        ['server', server.saslOffer],
        ['client', client.initial],
        ['server', server.serverFirst],
        ['client', response(POSTGRES_STYLE.clientFinal.replace('7j,', '7k,'))],
      ],
      /nonce does not match/,
    ],
    [
      'a malformed client-final',
      [
        ['server', server.saslOffer],
        ['client', client.initial],
        ['server', server.serverFirst],
        ['client', response('c=biws')],
      ],
      /client-final-message/,
    ],
    [
      'a server-final error attribute',
      [
        ['server', server.saslOffer],
        ['client', client.initial],
        ['server', server.serverFirst],
        ['client', client.clientFinal],
        ['server', final('e=invalid-proof')],
      ],
      /error attribute/,
    ],
    [
      'a malformed server-final',
      [
        ['server', server.saslOffer],
        ['client', client.initial],
        ['server', server.serverFirst],
        ['client', client.clientFinal],
        ['server', final('v=AAAA')],
      ],
      /server-final-message/,
    ],
    [
      'Ok before SASLFinal',
      [
        ['server', server.saslOffer],
        ['client', client.initial],
        ['server', server.serverFirst],
        ['client', client.clientFinal],
        ['server', server.ok],
      ],
      /expected SASLFinal/,
    ],
    [
      'SASLFinal twice',
      [
        ['server', server.saslOffer],
        ['client', client.initial],
        ['server', server.serverFirst],
        ['client', client.clientFinal],
        ['server', server.serverFinal],
        ['server', server.serverFinal],
      ],
      /expected AuthenticationOk/,
    ],
    [
      'client-final before server-first',
      [
        ['server', server.saslOffer],
        ['client', client.initial],
        ['client', client.clientFinal],
      ],
      /server was to answer/,
    ],
    [
      'a server message while the client answers',
      [
        ['server', server.saslOffer],
        ['server', server.serverFirst],
      ],
      /client was to answer/,
    ],
    [
      'a non-auth server message',
      [
        ['server', server.saslOffer],
        ['server', frameOf(message('Z', Buffer.from('I')))],
      ],
      /unexpected server message 'Z'/,
    ],
    [
      'a non-password client message',
      [
        ['server', server.saslOffer],
        ['client', frameOf(message('X', Buffer.alloc(0)))],
      ],
      /unexpected client message 'X'/,
    ],
  ];
  for (const [what, steps, detail] of cases) {
    it(`on ${what}`, () => {
      const observer = new ScramObserver();
      for (const [from, frame] of steps) {
        if (from === 'server') observer.fromServer(frame);
        else observer.fromClient(frame);
      }
      const observation = observer.observation;
      expect(observation.status).toBe('lost');
      if (observation.status === 'lost') expect(observation.detail).toMatch(detail);
    });
  }
});
