import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { endsWithTerminate } from '../wire/parser.js';
import { IdleTracker } from './idle-tracker.js';

/**
 * The hot path: bytes both ways between a client and its member, unframed, with the
 * streams' own backpressure (pipe). It counts bytes and watches, from the last bytes of each
 * chunk only, whether the session is between messages (IdleTracker) and whether the client's
 * last message was a Terminate.
 */
export class ByteRelay {
  bytesIn = 0;
  bytesOut = 0;
  readonly idle = new IdleTracker(false);
  /** The client's last bytes were a Terminate message: whatever closes next, the client ended it. */
  clientSaidGoodbye = false;
  /** True once client bytes flow to the backend through pipe() (which then forwards a FIN). */
  clientFlowing = false;

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
    this.client.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      this.idle.clientBytes();
      this.clientSaidGoodbye = endsWithTerminate(chunk);
    });
    this.client.pipe(this.backend);
  }

  /** Member to client from now on; `rest` = member bytes already read past the startup. */
  startBackendToClient(rest: Buffer): void {
    if (rest.length > 0) this.writeClient(rest);
    this.backend.on('data', (chunk: Buffer) => {
      this.bytesOut += chunk.length;
      this.idle.backendBytes(chunk);
    });
    this.backend.pipe(this.client);
  }

  /** A message to the client outside the pipe (relayed startup messages). */
  writeClient(bytes: Buffer): void {
    this.bytesOut += bytes.length;
    this.idle.backendBytes(bytes);
    this.client.write(bytes);
  }

  stop(): void {
    this.backend.unpipe();
    this.client.unpipe(this.backend);
  }
}
