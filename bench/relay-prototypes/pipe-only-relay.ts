import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { BoundaryView, RelayShape } from './relay-shape.js';

const neverIdle: BoundaryView = { isAtBoundary: () => false, isIdle: () => false };

/**
 * The floor, not a candidate: pipe() both ways and nothing else (no counting, no idle tail,
 * no goodbye check), inside the same accept/connect harness as the real relays, so the gap
 * between this and the bare pipe process is the harness and the gap above it the relay's work.
 */
export class PipeOnlyRelay implements RelayShape {
  bytesIn = 0;
  bytesOut = 0;
  readonly idle = neverIdle;
  clientSaidGoodbye = false;
  clientFlowing = false;

  constructor(
    private readonly client: Duplex,
    private readonly backend: net.Socket,
  ) {}

  startClientToBackend(rest: Buffer): void {
    if (this.clientFlowing) return;
    this.clientFlowing = true;
    if (rest.length > 0) this.backend.write(rest);
    this.client.pipe(this.backend);
  }

  startBackendToClient(rest: Buffer): void {
    if (rest.length > 0) this.client.write(rest);
    this.backend.pipe(this.client);
  }

  writeClient(bytes: Buffer): void {
    this.client.write(bytes);
  }

  stop(): void {
    this.backend.unpipe();
    this.client.unpipe(this.backend);
  }
}
