/**
 * What hostile clients send before they fall silent. Pure: bytes from the fault's own random
 * stream, so a seed replays the same garbage.
 */
import { cancelRequest, sslRequest } from '../../src/wire/serializer.js';
import type { SeededRandom } from '../seeded-random.js';

export const SLOW_VARIANTS = ['ssl-request-then-silence', 'partial-startup', 'length-only'] as const;
export const GARBAGE_VARIANTS = ['random-bytes', 'absurd-length', 'negative-length', 'tiny-length', 'unknown-protocol', 'unknown-cancel-key', 'oversized-startup'] as const;
export type SlowVariant = (typeof SLOW_VARIANTS)[number];
export type GarbageVariant = (typeof GARBAGE_VARIANTS)[number];

export interface HostilePayload<V extends string> {
  variant: V;
  bytes: Buffer;
}

function int32(...values: number[]): Buffer {
  const out = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => out.writeInt32BE(v | 0, 4 * i));
  return out;
}

/** A client that starts its startup and never finishes it. */
export function slowPayload(random: SeededRandom): HostilePayload<SlowVariant> {
  const variant = random.pick(SLOW_VARIANTS);
  switch (variant) {
    case 'ssl-request-then-silence':
      return { variant, bytes: sslRequest() };
    case 'partial-startup': {
      // A protocol 3.0 startup that claims more bytes than it sends.
      const claimed = random.int(40, 400);
      return { variant, bytes: Buffer.concat([int32(claimed, 196608), Buffer.from('user\0trustuser\0')]) };
    }
    case 'length-only':
      return { variant, bytes: int32(random.int(8, 10_000)) };
  }
}

/** A client that sends nonsense as its first packet. */
export function garbagePayload(random: SeededRandom): HostilePayload<GarbageVariant> {
  const variant = random.pick(GARBAGE_VARIANTS);
  switch (variant) {
    case 'random-bytes':
      return { variant, bytes: random.bytes(random.int(1, 512)) };
    case 'absurd-length':
      return { variant, bytes: Buffer.concat([int32(0x7fffffff, 196608), random.bytes(random.int(0, 64))]) };
    case 'negative-length':
      return { variant, bytes: Buffer.concat([int32(-random.int(1, 0x7fffffff)), random.bytes(random.int(0, 64))]) };
    case 'tiny-length':
      return { variant, bytes: Buffer.concat([int32(random.int(0, 7)), random.bytes(random.int(0, 16))]) };
    case 'unknown-protocol':
      // Neither 3.0 nor one of the request codes (which all start 0x04d2).
      return { variant, bytes: Buffer.concat([int32(8, random.int(0x00050000, 0x04d10000))]) };
    case 'unknown-cancel-key':
      return { variant, bytes: cancelRequest(random.int(1, 0x7fffffff), random.bytes(4)) };
    case 'oversized-startup': {
      // Well-formed framing, but more than PostgreSQL's 10,000-byte startup limit.
      const body = Buffer.concat([int32(196608), Buffer.from(`user\0trustuser\0options\0${'x'.repeat(random.int(10_000, 40_000))}\0\0`)]);
      return { variant, bytes: Buffer.concat([int32(body.length + 4), body]) };
    }
  }
}
