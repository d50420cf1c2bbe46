import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { endsWithTerminate } from '../wire/parser.js';
import { type MemberReads, memberReadsOf, writeMemberChunk } from './backend/member-reads.js';
import { IdleTracker } from './idle-tracker.js';

/**
 * The hot path: bytes both ways between a client and its member, unframed, with the streams'
 * own backpressure. It counts bytes and watches, from the last bytes of each chunk only,
 * whether the session is between messages (IdleTracker) and whether the client's last message
 * was a Terminate.
 *
 * One 'data' listener per direction counts, watches and writes (bench/relay-prototypes: with
 * pipe() plus a counting listener, EventEmitter#emit copies its listener array and makes two
 * calls on every chunk). Otherwise it keeps pipe()'s contract: a destination whose write()
 * says "full" pauses its source until 'drain'; a source's FIN ends its destination; a
 * destination that closes detaches and pauses its source; stop() detaches and pauses both.
 * The listeners are fields bound once per relay, so no closure is made per chunk.
 *
 * A member socket the router opened reads into a buffer of its own (MemberReads): the relay
 * claims those reads and gets each one as a view of that buffer, with no 'data' event.
 */
export class ByteRelay {
  bytesIn = 0;
  bytesOut = 0;
  readonly idle = new IdleTracker(false);
  /** The client's last bytes were a Terminate message: whatever closes next, the client ended it. */
  clientSaidGoodbye = false;
  /** True once client bytes flow to the backend (a client FIN is then passed on as a FIN). */
  clientFlowing = false;
  private backendFlowing = false;
  /** Forwarding in that direction is attached (not yet stopped). */
  private clientAttached = false;
  private backendAttached = false;
  /** The member socket's reads, while this relay has claimed them. */
  private claimed: MemberReads | undefined;

  constructor(
    private readonly client: Duplex,
    private readonly backend: net.Socket,
  ) {}

  /** Client to member from now on; `rest` = client bytes already read past its startup packet. */
  startClientToBackend(rest: Buffer): void {
    if (this.clientFlowing) return;
    this.clientFlowing = true;
    if (rest.length > 0) {
      this.bytesIn += rest.length;
      this.backend.write(rest);
    }
    this.clientAttached = true;
    this.client.on('data', this.fromClient);
    this.client.on('end', this.clientEnded);
    this.backend.on('drain', this.backendDrained);
    this.backend.on('close', this.detachClient);
    // As pipe() does: start reading unless the member is already behind.
    if (!this.backend.writableNeedDrain) this.client.resume();
  }

  /** Member to client from now on; `rest` = member bytes already read past the startup. */
  startBackendToClient(rest: Buffer): void {
    if (this.backendFlowing) return;
    this.backendFlowing = true;
    if (rest.length > 0) this.writeClient(rest);
    this.backendAttached = true;
    const reads = memberReadsOf(this.backend);
    if (reads?.claim(this.fromMemberReads) === true) this.claimed = reads;
    else this.backend.on('data', this.fromBackend);
    this.backend.on('end', this.backendEnded);
    this.client.on('drain', this.clientDrained);
    this.client.on('close', this.detachBackend);
    if (this.client.writableNeedDrain) this.backend.pause();
    else if (this.backend.readableFlowing !== true) this.backend.resume();
  }

  /** A message to the client outside the relay (relayed startup messages). */
  writeClient(bytes: Buffer): void {
    this.bytesOut += bytes.length;
    this.idle.backendBytes(bytes);
    this.client.write(bytes);
  }

  stop(): void {
    this.detachClient();
    this.detachBackend();
  }

  private readonly fromClient = (chunk: Buffer): void => {
    this.bytesIn += chunk.length;
    this.idle.clientBytes();
    this.clientSaidGoodbye = endsWithTerminate(chunk);
    if (!this.backend.write(chunk)) this.client.pause();
  };

  private readonly fromBackend = (chunk: Buffer): void => {
    this.bytesOut += chunk.length;
    this.idle.backendBytes(chunk);
    if (!this.client.write(chunk)) this.backend.pause();
  };

  private readonly fromMemberReads = (chunk: Buffer): void => {
    const reads = this.claimed;
    if (reads === undefined) return;
    this.bytesOut += chunk.length;
    this.idle.backendBytes(chunk);
    if (!writeMemberChunk(this.client, chunk, reads)) this.backend.pause();
  };

  private readonly backendDrained = (): void => {
    this.client.resume();
  };

  private readonly clientDrained = (): void => {
    this.backend.resume();
  };

  private readonly clientEnded = (): void => {
    this.backend.end();
  };

  private readonly backendEnded = (): void => {
    this.client.end();
  };

  /** Stops client-to-member forwarding, leaving the client paused, as unpipe() does. */
  private readonly detachClient = (): void => {
    if (!this.clientAttached) return;
    this.clientAttached = false;
    this.client.removeListener('data', this.fromClient);
    this.client.removeListener('end', this.clientEnded);
    this.backend.removeListener('drain', this.backendDrained);
    this.backend.removeListener('close', this.detachClient);
    this.client.pause();
  };

  private readonly detachBackend = (): void => {
    if (!this.backendAttached) return;
    this.backendAttached = false;
    this.claimed?.release();
    this.claimed = undefined;
    this.backend.removeListener('data', this.fromBackend);
    this.backend.removeListener('end', this.backendEnded);
    this.client.removeListener('drain', this.clientDrained);
    this.client.removeListener('close', this.detachBackend);
    this.backend.pause();
  };
}
