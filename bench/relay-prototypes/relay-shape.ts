import type net from 'node:net';
import type { Duplex } from 'node:stream';

/** Where a relay stands between messages: what session.ts asks of `relay.idle`. */
export interface BoundaryView {
  isAtBoundary(): boolean;
  isIdle(): boolean;
}

/**
 * The public shape of src/proxy/byte-relay.ts's ByteRelay, which every prototype keeps so the
 * winner can replace it without touching session.ts.
 */
export interface RelayShape {
  bytesIn: number;
  bytesOut: number;
  readonly idle: BoundaryView;
  clientSaidGoodbye: boolean;
  clientFlowing: boolean;
  startClientToBackend(rest: Buffer): void;
  startBackendToClient(rest: Buffer): void;
  writeClient(bytes: Buffer): void;
  stop(): void;
}

export type RelayFactory = (client: Duplex, backend: net.Socket) => RelayShape;
