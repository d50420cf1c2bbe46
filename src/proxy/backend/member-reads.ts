import type net from 'node:net';
import type { Writable } from 'node:stream';

/**
 * Where the bytes a member sends land: a buffer of the socket's own, reused read after read
 * (net.connect's `onread`), instead of the 64 KiB that Node allocates for every read and then
 * shrinks. bench/relay-prototypes measured the difference: about a fifth fewer instructions
 * per relayed transaction, since no ArrayBuffer is made per read and none of Readable's
 * push/emit runs while a relay has claimed the reads.
 *
 * - Unclaimed (startup, links, moves), every read is pushed into the socket as a copy, so
 *   'data' listeners, pause() and buffering behave as on any socket.
 * - Claimed by a ByteRelay or a split session's link, every read goes straight to it as a view
 *   of the read buffer. The relay writes it to the client; a write the kernel did not take at
 *   once still points into the buffer, so the relay says so (`chunkKept`) and the next read
 *   lands in a new buffer. The split relay also copies what it keeps past the read (a message
 *   cut by the read's end, answers its safety net holds back).
 *
 * Node asks for the next read's buffer as soon as a read has been handled, and the socket holds
 * it until data comes, so the buffer cannot be shared between sockets. An idle session keeps
 * only a small one: a read that fills it is followed by reads into a large one, which is let go
 * once a read would have fitted in the small one (the end of a result, usually).
 */
const SMALL_READ = 1024;
const LARGE_READ = 64 * 1024;

const readsOfSocket = new WeakMap<net.Socket, MemberReads>();

/** The reads of a socket connectTcp made, or undefined for any other socket (a TLSSocket, say). */
export function memberReadsOf(socket: net.Socket): MemberReads | undefined {
  return readsOfSocket.get(socket);
}

/** The options that make `net.connect` read through a MemberReads; `register` ties the two once the socket exists. */
export function memberReadOptions(): { onread: net.OnReadOpts; register: (socket: net.Socket) => MemberReads } {
  const reads = new MemberReads();
  return {
    onread: { buffer: reads.nextBuffer, callback: reads.landed },
    register: (socket) => {
      reads.attach(socket);
      readsOfSocket.set(socket, reads);
      return reads;
    },
  };
}

export class MemberReads {
  private socket: net.Socket | undefined;
  private sink: ((chunk: Buffer) => void) | undefined;
  private small: Buffer | undefined;
  private large: Buffer | undefined;
  private wantLarge = false;
  /** The sink still refers to the chunk it was handed: that buffer is no longer ours to read into. */
  private kept = false;

  /** The socket these reads are of: net.connect takes the options before the socket exists. */
  attach(socket: net.Socket): void {
    this.socket = socket;
  }

  /**
   * Hands every read to `sink` from now on. Refused (false) while the socket still holds bytes
   * it read before: they must reach the claimant first, through the socket's own 'data'.
   */
  claim(sink: (chunk: Buffer) => void): boolean {
    if (this.socket === undefined || this.socket.readableLength > 0) return false;
    this.sink = sink;
    return true;
  }

  /** Reads are pushed into the socket again. */
  release(): void {
    this.sink = undefined;
  }

  /** Called by the sink, during its call: the chunk it was handed is still referenced. */
  chunkKept(): void {
    this.kept = true;
  }

  // Each its own ArrayBuffer (allocUnsafeSlow): a slice of the shared 8 KiB pool would keep the whole pool alive.
  readonly nextBuffer = (): Buffer => {
    if (this.wantLarge) return (this.large ??= Buffer.allocUnsafeSlow(LARGE_READ));
    this.large = undefined;
    return (this.small ??= Buffer.allocUnsafeSlow(SMALL_READ));
  };

  /** onread's callback; false stops reading until the socket is read from again (as Node's own push does). */
  readonly landed = (bytes: number, buffer: Uint8Array): boolean => {
    const view = (buffer as Buffer).subarray(0, bytes);
    // A read that filled the small buffer is likely followed by more; one that would have fit lets the large one go.
    this.wantLarge = bytes >= SMALL_READ;
    const sink = this.sink;
    if (sink === undefined) return this.socket?.push(Buffer.from(view)) ?? false;
    sink(view);
    if (this.kept) {
      this.kept = false;
      if (buffer === this.small) this.small = undefined;
      else if (buffer === this.large) this.large = undefined;
    }
    return true;
  };
}

/**
 * Writes a chunk the relay was handed by MemberReads: as it is when nothing is queued before
 * it, as a copy behind bytes already queued (so a slow client pins no read buffers), and tells
 * `reads` when the kernel did not take it all at once. Returns write()'s answer.
 */
export function writeMemberChunk(to: Writable, chunk: Buffer, reads: MemberReads): boolean {
  if (to.writableLength > 0) return to.write(Buffer.from(chunk));
  const room = to.write(chunk);
  if (to.writableLength > 0) reads.chunkKept();
  return room;
}
