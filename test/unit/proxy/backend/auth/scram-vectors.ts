import { expect } from 'vitest';
import type { Frame } from '../../../../../src/wire/frame-reader.js';
import { AuthCode } from '../../../../../src/wire/message-codes.js';
import { authentication, authenticationOk, authenticationSasl, saslInitialResponse, saslResponse } from '../../../../../src/wire/serializer.js';
import { frameOf } from '../../../../support/test-buffers.js';

/**
 * SCRAM-SHA-256 exchanges with known answers. Test passwords only. Keys are compared with
 * `expectSameBytes`, which never prints them, even when it fails.
 */
export interface ScramVector {
  name: string;
  password: string;
  verifier: string;
  clientKeyHex: string;
  clientFirst: string;
  serverFirst: string;
  clientFinal: string;
  serverFinal: string;
  clientNonce: string;
}

/** RFC 7677 §3 (user "user", password "pencil"). */
export const RFC7677: ScramVector = {
  name: 'RFC 7677',
  password: 'pencil',
  verifier: 'SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=',
  clientKeyHex: 'a60fc923d67e8644a92d16b96eda5ef4656b0c725c484374be25535576996e8b',
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

/**
 * As libpq and PostgreSQL exchange it: empty user name (`n=`), 16-byte salt, 4096 iterations.
 * Computed independently with Python's hashlib (pbkdf2_hmac, hmac) for these nonces.
 */
export const POSTGRES_STYLE: ScramVector = {
  name: 'PostgreSQL-style',
  password: 'correct horse battery staple',
  verifier: 'SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$ONYbSJBXtKl6bP6PVqw8pm9e7EiacprLnoUQPFS80Hw=:IPOtHuGJ2HifEQg74W2XXqqCrCyQG55GbPRHa6g6n9w=',
  clientKeyHex: '9bce4619be25eb19db70fdbbc33a48009d86a1b122ef3b0fe4231a639771ec70',
  clientNonce: 'fyko+d2lbbFgONRv9qkxdawL',
  clientFirst: 'n,,n=,r=fyko+d2lbbFgONRv9qkxdawL',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=AAECAwQFBgcICQoLDA0ODw==,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=BQqpITG7d8q7LbcwJUU7SWOJbby3Kzol+mqA+he0w/s=',
  serverFinal: 'v=tUlxMA5eFvwEft1i5w/kREf/RRJnKveCH6S0vUCixvA=',
};

export const VECTORS = [RFC7677, POSTGRES_STYLE];

export function expectSameBytes(actual: Buffer, expected: Buffer, what: string): void {
  // A boolean, so a failure names what differs and prints no key bytes.
  expect(actual.length === expected.length && actual.equals(expected), `${what} has the expected bytes`).toBe(true);
}

export interface RelayedExchange {
  server: { saslOffer: Frame; serverFirst: Frame; serverFinal: Frame; ok: Frame };
  client: { initial: Frame; clientFinal: Frame };
}

/** The six messages of a SCRAM login as the router relays them. */
export function relayedExchange(vector: ScramVector, options: { mechanisms?: string[]; mechanism?: string } = {}): RelayedExchange {
  return {
    server: {
      saslOffer: frameOf(authenticationSasl(options.mechanisms ?? ['SCRAM-SHA-256'])),
      serverFirst: frameOf(authentication(AuthCode.SASLContinue, Buffer.from(vector.serverFirst))),
      serverFinal: frameOf(authentication(AuthCode.SASLFinal, Buffer.from(vector.serverFinal))),
      ok: frameOf(authenticationOk()),
    },
    client: {
      initial: frameOf(saslInitialResponse(options.mechanism ?? 'SCRAM-SHA-256', Buffer.from(vector.clientFirst))),
      clientFinal: frameOf(saslResponse(Buffer.from(vector.clientFinal))),
    },
  };
}
