import { describe, expect, it } from 'vitest';
import {
  buildClientFinalMessage,
  buildClientFinalWithoutProof,
  buildClientFirstMessage,
  buildServerFinalMessage,
  buildServerFirstMessage,
  parseClientFinalMessage,
  parseClientFirstMessage,
  parseServerFinalMessage,
  parseServerFirstMessage,
  scramText,
  ScramMessageError,
} from '../../../../../src/proxy/backend/auth/scram-messages.js';
import { RFC7677, VECTORS } from './scram-vectors.js';

function rejects(read: () => unknown, reason: RegExp): void {
  let caught: unknown;
  try {
    read();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ScramMessageError);
  expect((caught as Error).message).toMatch(reason);
}

describe.each(VECTORS)('SCRAM messages of the $name exchange', (vector) => {
  const clientFirst = parseClientFirstMessage(vector.clientFirst);
  const serverFirst = parseServerFirstMessage(vector.serverFirst, clientFirst.nonce);

  it('parses client-first and keeps its bare part exactly', () => {
    expect(clientFirst.channelBinding).toEqual({ flag: 'n' });
    expect(clientFirst.gs2Header).toBe('n,,');
    expect(clientFirst.nonce).toBe(vector.clientNonce);
    expect(`${clientFirst.gs2Header}${clientFirst.bare}`).toBe(vector.clientFirst);
  });

  it('parses server-first: combined nonce, salt, iterations', () => {
    expect(serverFirst.nonce.startsWith(vector.clientNonce)).toBe(true);
    expect(serverFirst.iterations).toBe(4096);
    expect(serverFirst.text).toBe(vector.serverFirst);
  });

  it('parses client-final against the exchange and strips exactly the proof', () => {
    const final = parseClientFinalMessage(vector.clientFinal, { ...clientFirst, nonce: serverFirst.nonce });
    expect(final.withoutProof).toBe(vector.clientFinal.slice(0, vector.clientFinal.indexOf(',p=')));
    expect(final.channelBindingInput.toString()).toBe('n,,');
    expect(final.proof.length).toBe(32);
  });

  it('parses server-final', () => {
    const final = parseServerFinalMessage(vector.serverFinal);
    expect(final.kind).toBe('verifier');
  });

  it('builds the same texts back', () => {
    const built = buildClientFirstMessage({ nonce: vector.clientNonce, username: clientFirst.username });
    expect(built.text).toBe(vector.clientFirst);
    expect(buildServerFirstMessage({ nonce: serverFirst.nonce, salt: serverFirst.salt, iterations: serverFirst.iterations })).toBe(vector.serverFirst);
    const withoutProof = buildClientFinalWithoutProof({ gs2Header: 'n,,', nonce: serverFirst.nonce });
    const final = parseClientFinalMessage(vector.clientFinal, { ...clientFirst, nonce: serverFirst.nonce });
    expect(buildClientFinalMessage(withoutProof, final.proof)).toBe(vector.clientFinal);
    const serverFinal = parseServerFinalMessage(vector.serverFinal);
    expect(buildServerFinalMessage(serverFinal)).toBe(vector.serverFinal);
  });
});

describe('client-first-message', () => {
  it('reads y and p= flags and escaped names', () => {
    expect(parseClientFirstMessage('y,,n=,r=abc').channelBinding).toEqual({ flag: 'y' });
    const p = parseClientFirstMessage('p=tls-server-end-point,,n=,r=abc');
    expect(p.channelBinding).toEqual({ flag: 'p', type: 'tls-server-end-point' });
    expect(p.gs2Header).toBe('p=tls-server-end-point,,');
    expect(parseClientFirstMessage('n,,n=a=2Cb=3Dc,r=abc').username).toBe('a,b=c');
    expect(buildClientFirstMessage({ nonce: 'abc', username: 'a,b=c' }).bare).toBe('n=a=2Cb=3Dc,r=abc');
  });

  it('accepts optional extensions after the nonce, as PostgreSQL does', () => {
    expect(parseClientFirstMessage('n,,n=,r=abc,x=1').nonce).toBe('abc');
  });

  const bad: Array<[string, string, RegExp]> = [
    ['empty', '', /GS2 header/],
    ['unknown flag', 'q,,n=,r=abc', /GS2 header/],
    ['p without type', 'p=,,n=,r=abc', /GS2 header/],
    ['p with bad type', 'p=tls server,,n=,r=abc', /GS2 header/],
    ['unterminated header', 'n', /not terminated/],
    ['authzid', 'n,a=admin,n=,r=abc', /authorization identity/],
    ['garbage authzid', 'n,x,n=,r=abc', /authorization identity/],
    ['mandatory extension', 'n,,m=ext,n=,r=abc', /mandatory extension/],
    ['no user attribute', 'n,,r=abc', /expected attribute n=/],
    ['unescaped =', 'n,,n=a=b,r=abc', /unescaped/],
    ['no nonce', 'n,,n=', /missing attribute r=/],
    ['empty nonce', 'n,,n=,r=', /nonce/],
    ['non-printable nonce', 'n,,n=,r=ab\x01c', /nonce/],
    ['nonce with space', 'n,,n=,r=ab c', /nonce/],
    ['empty extension', 'n,,n=,r=abc,x=', /extension/],
    ['repeated attribute', 'n,,n=,r=abc,r=def', /repeated/],
    ['mandatory extension after nonce', 'n,,n=,r=abc,m=x', /mandatory/],
  ];
  for (const [what, text, reason] of bad) it(`rejects ${what}`, () => rejects(() => parseClientFirstMessage(text), reason));
});

describe('server-first-message', () => {
  const ok = 'r=abcdef,s=QUJD,i=4096';
  it('parses a minimal one', () => expect(parseServerFirstMessage(ok, 'abc').iterations).toBe(4096));

  const bad: Array<[string, string, RegExp]> = [
    ['nonce not continuing the client nonce', 'r=xyzdef,s=QUJD,i=4096', /does not start with the client nonce/],
    ['nonce equal to the client nonce', 'r=abc,s=QUJD,i=4096', /added nothing/],
    ['attributes out of order', 's=QUJD,r=abcdef,i=4096', /expected attribute r=/],
    ['salt not base64', 'r=abcdef,s=QU!D,i=4096', /salt/],
    ['empty salt', 'r=abcdef,s=,i=4096', /salt/],
    ['zero iterations', 'r=abcdef,s=QUJD,i=0', /iteration/],
    ['negative iterations', 'r=abcdef,s=QUJD,i=-1', /iteration/],
    ['iterations over int32', 'r=abcdef,s=QUJD,i=4294967296', /iteration/],
    ['iterations with junk', 'r=abcdef,s=QUJD,i=40x', /iteration/],
    ['missing iterations', 'r=abcdef,s=QUJD', /missing attribute i=/],
    ['mandatory extension', 'm=x,r=abcdef,s=QUJD,i=4096', /mandatory/],
  ];
  for (const [what, text, reason] of bad) it(`rejects ${what}`, () => rejects(() => parseServerFirstMessage(text, 'abc'), reason));
});

describe('client-final-message', () => {
  const expected = { gs2Header: 'n,,', channelBinding: { flag: 'n' as const }, nonce: 'abcdef' };
  const proof = Buffer.alloc(32, 7).toString('base64');

  it('accepts extensions between nonce and proof', () => {
    expect(parseClientFinalMessage(`c=biws,r=abcdef,x=1,p=${proof}`, expected).withoutProof).toBe('c=biws,r=abcdef,x=1');
  });

  it('checks c= against a y header and against p= binding data', () => {
    const y = { gs2Header: 'y,,', channelBinding: { flag: 'y' as const }, nonce: 'abcdef' };
    expect(() => parseClientFinalMessage(`c=eSws,r=abcdef,p=${proof}`, y)).not.toThrow();
    rejects(() => parseClientFinalMessage(`c=biws,r=abcdef,p=${proof}`, y), /GS2 header/);
    const header = 'p=tls-server-end-point,,';
    const p = { gs2Header: header, channelBinding: { flag: 'p' as const, type: 'tls-server-end-point' }, nonce: 'abcdef' };
    const withData = Buffer.concat([Buffer.from(header), Buffer.alloc(32, 1)]).toString('base64');
    expect(() => parseClientFinalMessage(`c=${withData},r=abcdef,p=${proof}`, p)).not.toThrow();
    rejects(() => parseClientFinalMessage(`c=${Buffer.from(header).toString('base64')},r=abcdef,p=${proof}`, p), /binding data/);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['no proof', 'c=biws,r=abcdef', /missing proof/],
    ['proof not last', `c=biws,r=abcdef,p=${proof},x=1`, /proof/],
    ['short proof', 'c=biws,r=abcdef,p=AAAA', /proof/],
    ['proof not base64', `c=biws,r=abcdef,p=${proof.slice(0, -2)}!!`, /proof/],
    ['nonce mismatch', `c=biws,r=abcdeg,p=${proof}`, /nonce does not match/],
    ['client nonce only', `c=biws,r=abc,p=${proof}`, /nonce does not match/],
    ['binding of another header', `c=eSws,r=abcdef,p=${proof}`, /GS2 header/],
    ['binding with data on n', `c=${Buffer.from('n,,xx').toString('base64')},r=abcdef,p=${proof}`, /GS2 header/],
    ['binding not base64', `c=bi!s,r=abcdef,p=${proof}`, /not base64/],
    ['attributes out of order', `r=abcdef,c=biws,p=${proof}`, /expected attribute c=/],
    ['duplicate proof', `c=biws,r=abcdef,p=${proof},p=${proof}`, /repeated/],
  ];
  for (const [what, text, reason] of bad) it(`rejects ${what}`, () => rejects(() => parseClientFinalMessage(text, expected), reason));
});

describe('server-final-message', () => {
  it('reads an error attribute', () => {
    expect(parseServerFinalMessage('e=invalid-proof')).toEqual({ kind: 'error', error: 'invalid-proof' });
  });
  const bad: Array<[string, string, RegExp]> = [
    ['empty', '', /expected attribute v=/],
    ['short signature', 'v=AAAA', /signature/],
    ['empty error', 'e=', /empty server error/],
    ['bad extension', `${RFC7677.serverFinal},x`, /extension/],
  ];
  for (const [what, text, reason] of bad) it(`rejects ${what}`, () => rejects(() => parseServerFinalMessage(text), reason));
});

describe('scramText', () => {
  it('refuses invalid UTF-8 and NUL bytes, keeps a BOM byte for byte', () => {
    rejects(() => scramText(Buffer.from([0x6e, 0xff]), 'client-first-message'), /UTF-8/);
    rejects(() => scramText(Buffer.from('n,,\0'), 'client-first-message'), /NUL/);
    expect(Buffer.from(scramText(Buffer.from('\ufeffn', 'utf8'), 'client-first-message'), 'utf8').equals(Buffer.from('\ufeffn', 'utf8'))).toBe(true);
  });
});
