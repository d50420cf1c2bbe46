/**
 * src's ByteRelay (on a plain socket and on one whose reads it claims) and the onread prototype on real loopback
 * sockets: bytes arrive whole and in order both ways, a slow reader on either side pauses the
 * other side instead of letting the relay queue the stream in memory, FINs pass, and the
 * boundary watch answers as before. A naive relay that ignores write()'s answer is run too, so
 * the memory bound is shown to catch a relay without backpressure.
 */
import { createHash } from 'node:crypto';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayShape } from '../../../bench/relay-prototypes/relay-shape.js';
import { ByteRelay } from '../../../src/proxy/byte-relay.js';
import { relayRig, type RelayMaker, type RelayRig } from './relay-rig.js';

const VOLUME = 24 * 1024 * 1024;
/** Far above what a relay with backpressure queues (highWaterMark plus a read or two), far below VOLUME. */
const QUEUE_BOUND = 1024 * 1024;

/** Writes VOLUME pseudo-random bytes, `pieces` at a time, as fast as `to` takes them; resolves with their digest. */
function flood(to: net.Socket, pieces = 65_536): Promise<string> {
  const hash = createHash('sha256');
  let sent = 0;
  let seed = 7;
  return new Promise((resolve) => {
    const more = (): void => {
      while (sent < VOLUME) {
        const chunk = Buffer.allocUnsafe(Math.min(pieces, VOLUME - sent));
        for (let i = 0; i < chunk.length; i += 4) {
          seed = (seed * 1_103_515_245 + 12_345) >>> 0;
          chunk.writeUInt32LE(seed, i);
        }
        hash.update(chunk);
        sent += chunk.length;
        if (!to.write(chunk)) return void to.once('drain', more);
      }
      to.end();
      resolve(hash.digest('hex'));
    };
    more();
  });
}

/** A reader that sits still first, then reads in small sips; resolves with the digest at its end. */
function slowRead(from: net.Socket, holdMs: number): Promise<{ digest: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Promise((resolve) => {
    from.pause();
    from.on('end', () => resolve({ digest: hash.digest('hex'), bytes }));
    const sip = (): void => {
      let chunk: Buffer | null;
      let taken = 0;
      while (taken < 256 * 1024 && (chunk = from.read() as Buffer | null) !== null) {
        hash.update(chunk);
        bytes += chunk.length;
        taken += chunk.length;
      }
      if (!from.readableEnded) setTimeout(sip, 2);
    };
    setTimeout(sip, holdMs);
  });
}

/** The most bytes ever queued in `stream`'s writable side, sampled on every write to it. */
function watchQueue(stream: Duplex): () => number {
  let most = 0;
  const write = stream.write.bind(stream) as (chunk: Buffer) => boolean;
  stream.write = ((chunk: Buffer): boolean => {
    const room = write(chunk);
    most = Math.max(most, stream.writableLength);
    return room;
  }) as Duplex['write'];
  return () => most;
}

/** Writes every chunk, never pausing (FINs passed on): what the bound must catch. */
const naive: RelayMaker = (client, backend): RelayShape => {
  client.on('data', (chunk: Buffer) => void backend.write(chunk)).on('end', () => backend.end());
  backend.on('data', (chunk: Buffer) => void client.write(chunk)).on('end', () => client.end());
  client.resume();
  backend.resume();
  const never = (): boolean => false;
  return {
    bytesIn: 0,
    bytesOut: 0,
    idle: { isAtBoundary: never, isIdle: never },
    clientSaidGoodbye: false,
    clientFlowing: true,
    startClientToBackend: () => undefined,
    startBackendToClient: () => undefined,
    writeClient: () => undefined,
    stop: () => undefined,
  };
};

const rigs: RelayRig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) await rig.close();
});

async function rigged(maker: RelayMaker | 'onread' | 'member-reads'): Promise<RelayRig> {
  const rig = await relayRig(maker);
  rigs.push(rig);
  return rig;
}

function frame(code: string, body: number[]): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length + 4);
  return Buffer.concat([Buffer.from(code), length, Buffer.from(body)]);
}

const readyForQuery = frame('Z', [0x49]);
const dataRow = frame('D', [0, 1, 0, 0, 0, 1, 0x31]);
const terminate = frame('X', []);

const once = (stream: net.Socket, event: string): Promise<void> => new Promise((resolve) => stream.once(event, () => resolve()));

const kinds: Array<[string, RelayMaker | 'onread' | 'member-reads']> = [
  ['current ByteRelay', (client, backend) => new ByteRelay(client, backend)],
  ['ByteRelay on a member socket of connectTcp (reads claimed)', 'member-reads'],
  ['onread prototype', 'onread'],
];

describe.each(kinds)('%s', (_name, maker) => {
  it('relays a member flood to a slow client whole, queueing at most a little', async () => {
    const rig = await rigged(maker);
    const queued = watchQueue(rig.accepted);
    const [sent, received] = await Promise.all([flood(rig.member), slowRead(rig.client, 200)]);
    expect(received.bytes).toBe(VOLUME);
    expect(received.digest).toBe(sent);
    expect(rig.relay.bytesOut).toBe(VOLUME);
    expect(queued()).toBeLessThan(QUEUE_BOUND);
  }, 60_000);

  // Small pieces: a write to the client that the kernel does not finish at once is smaller than
  // the stream's highWaterMark, so reads go on while it is queued (and must not overwrite it).
  it('relays a member flood of small writes to a slow client whole', async () => {
    const rig = await rigged(maker);
    const [sent, received] = await Promise.all([flood(rig.member, 3000), slowRead(rig.client, 200)]);
    expect(received.bytes).toBe(VOLUME);
    expect(received.digest).toBe(sent);
  }, 60_000);

  it('relays a client flood to a slow member whole, queueing at most a little', async () => {
    const rig = await rigged(maker);
    const queued = watchQueue(rig.backend);
    const [sent, received] = await Promise.all([flood(rig.client), slowRead(rig.member, 200)]);
    expect(received.bytes).toBe(VOLUME);
    expect(received.digest).toBe(sent);
    expect(rig.relay.bytesIn).toBe(VOLUME);
    expect(queued()).toBeLessThan(QUEUE_BOUND);
  }, 60_000);

  it('passes a FIN each way and keeps the other direction open (half-close)', async () => {
    const rig = await rigged(maker);
    const memberSawEnd = once(rig.member, 'end');
    rig.client.end();
    await memberSawEnd;
    const clientGot = once(rig.client, 'data');
    rig.member.write(readyForQuery);
    await clientGot;
    const clientSawEnd = once(rig.client, 'end');
    rig.member.end();
    await clientSawEnd;
  });

  it('knows a boundary, a query in flight, and a goodbye from the bytes it relays', async () => {
    const rig = await rigged(maker);
    const relay: RelayShape = rig.relay;
    const answered = once(rig.client, 'data');
    rig.member.write(Buffer.concat([dataRow, readyForQuery]));
    await answered;
    expect([relay.idle.isAtBoundary(), relay.idle.isIdle()]).toEqual([true, true]);
    const asked = once(rig.member, 'data');
    rig.client.write(frame('Q', [0x31, 0]));
    await asked;
    expect([relay.idle.isAtBoundary(), relay.idle.isIdle(), relay.clientSaidGoodbye]).toEqual([true, false, false]);
    const bye = once(rig.member, 'data');
    rig.client.write(terminate);
    await bye;
    expect(relay.clientSaidGoodbye).toBe(true);
  });

  it('relays nothing more after stop()', async () => {
    const rig = await rigged(maker);
    const first = once(rig.member, 'data');
    rig.client.write(frame('Q', [0x31, 0]));
    await first;
    rig.relay.stop();
    let after = 0;
    rig.member.on('data', (chunk: Buffer) => (after += chunk.length));
    rig.client.write(frame('Q', [0x32, 0]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(after).toBe(0);
  });
});

describe('the queue bound', () => {
  it('catches a relay that ignores backpressure', async () => {
    const rig = await rigged(naive);
    const queued = watchQueue(rig.accepted);
    const [sent, received] = await Promise.all([flood(rig.member), slowRead(rig.client, 200)]);
    expect(received.digest).toBe(sent);
    expect(queued()).toBeGreaterThan(QUEUE_BOUND);
  }, 60_000);
});
