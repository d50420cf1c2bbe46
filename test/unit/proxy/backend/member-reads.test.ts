/**
 * MemberReads on real loopback sockets from connectTcp: unclaimed reads reach 'data' listeners
 * as copies that later reads do not overwrite; a claimant gets views of one reused buffer until
 * it says it kept one; a claim waits for bytes the socket already holds; big reads move to the
 * large buffer and back; a ByteRelay in front of a client whose writes finish late loses no byte.
 */
import net from 'node:net';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { connectTcp } from '../../../../src/proxy/backend/connector.js';
import { memberReadsOf, type MemberReads } from '../../../../src/proxy/backend/member-reads.js';
import { ByteRelay } from '../../../../src/proxy/byte-relay.js';

interface Pair {
  /** The router's socket, from connectTcp. */
  ours: net.Socket;
  reads: MemberReads;
  /** The member's side. */
  member: net.Socket;
}

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function pair(): Promise<Pair> {
  const server = net.createServer({ allowHalfOpen: true });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const ours = await connectTcp({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, 5000);
  const member = await accepted;
  sockets.push(ours, member);
  const reads = memberReadsOf(ours);
  if (reads === undefined) throw new Error('connectTcp made a socket without MemberReads');
  return { ours, reads, member };
}

/** Writes `parts` one at a time, each after the previous one was read (so each is its own read). */
async function sendOneByOne(member: net.Socket, parts: Buffer[], readCount: () => number): Promise<void> {
  for (const part of parts) {
    const before = readCount();
    member.write(part);
    await waitUntil(() => readCount() > before);
  }
}

async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const filled = (size: number, byte: number): Buffer => Buffer.alloc(size, byte);

describe('MemberReads', () => {
  it('gives unclaimed reads to data listeners as copies that later reads leave intact', async () => {
    const { ours, member } = await pair();
    const got: Buffer[] = [];
    ours.on('data', (chunk: Buffer) => got.push(chunk));
    ours.resume();
    const parts = [filled(100, 1), filled(100, 2), filled(100, 3)];
    await sendOneByOne(member, parts, () => got.length);
    expect(got).toEqual(parts);
  });

  it('hands a claimant views of one reused buffer, and a new buffer after it kept one', async () => {
    const { ours, reads, member } = await pair();
    const views: Buffer[] = [];
    const copies: Buffer[] = [];
    let keepNext = false;
    let dataEvents = 0;
    ours.on('data', () => dataEvents++);
    expect(
      reads.claim((chunk) => {
        views.push(chunk);
        copies.push(Buffer.from(chunk));
        if (keepNext) reads.chunkKept();
      }),
    ).toBe(true);
    ours.resume();
    await sendOneByOne(member, [filled(50, 1), filled(50, 2)], () => views.length);
    expect(views[0]!.buffer).toBe(views[1]!.buffer);
    keepNext = true;
    await sendOneByOne(member, [filled(50, 3)], () => views.length);
    keepNext = false;
    await sendOneByOne(member, [filled(50, 4)], () => views.length);
    // The kept chunk's buffer is not read into again: its bytes are still the third part.
    expect(views[3]!.buffer).not.toBe(views[2]!.buffer);
    expect(views[2]).toEqual(filled(50, 3));
    expect(copies).toEqual([filled(50, 1), filled(50, 2), filled(50, 3), filled(50, 4)]);
    expect(dataEvents).toBe(0);
  });

  it('refuses a claim while the socket holds bytes it read before, and accepts one once they are taken', async () => {
    const { ours, reads } = await pair();
    ours.unshift(Buffer.from('held'));
    expect(reads.claim(() => undefined)).toBe(false);
    expect(ours.read()).toEqual(Buffer.from('held'));
    expect(reads.claim(() => undefined)).toBe(true);
  });

  it('reads a big answer into the large buffer, and goes back to the small one after it', async () => {
    const { ours, reads, member } = await pair();
    const sizes: number[] = [];
    let total = 0;
    reads.claim((chunk) => {
      sizes.push(chunk.buffer.byteLength);
      total += chunk.length;
    });
    ours.resume();
    member.write(filled(512 * 1024, 7));
    await waitUntil(() => total === 512 * 1024);
    expect(sizes[0]).toBe(1024);
    expect(Math.max(...sizes)).toBe(64 * 1024);
    await sendOneByOne(member, [filled(10, 1)], () => sizes.length);
    await sendOneByOne(member, [filled(10, 2)], () => sizes.length);
    expect(sizes.at(-1)).toBe(1024);
  });

  it('gives reads back to data listeners after release()', async () => {
    const { ours, reads, member } = await pair();
    let claimed = 0;
    const got: Buffer[] = [];
    reads.claim(() => claimed++);
    ours.on('data', (chunk: Buffer) => got.push(chunk));
    ours.resume();
    await sendOneByOne(member, [filled(20, 1)], () => claimed);
    reads.release();
    await sendOneByOne(member, [filled(20, 2)], () => got.length);
    expect([claimed, got]).toEqual([1, [filled(20, 2)]]);
  });
});

/**
 * A client whose every write finishes a little later, keeping the chunk it was given until then
 * (as a socket does with bytes the kernel has not taken yet).
 */
class LateClient extends Duplex {
  readonly taken: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.taken.push(chunk);
    setTimeout(done, 1);
  }
  override _read(): void {}
}

describe('ByteRelay on claimed reads', () => {
  it('loses no byte to a client whose writes finish late, with reads going on meanwhile', async () => {
    const { ours, member } = await pair();
    const client = new LateClient();
    const relay = new ByteRelay(client, ours);
    relay.startBackendToClient(Buffer.alloc(0));
    const sent: Buffer[] = [];
    for (let i = 0; i < 120; i++) {
      const piece = filled(700 + (i % 5) * 300, i % 251);
      sent.push(piece);
      member.write(piece);
      // One read per piece, mostly: wait until the relay has passed it on.
      const expected = sent.reduce((sum, p) => sum + p.length, 0);
      await waitUntil(() => relay.bytesOut === expected);
    }
    await waitUntil(() => client.writableLength === 0);
    expect(Buffer.concat(client.taken)).toEqual(Buffer.concat(sent));
  });
});
