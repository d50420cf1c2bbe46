import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { ByteRelay } from '../../src/proxy/byte-relay.js';

/**
 * src's ByteRelay with cork()/uncork() around each destination's writes: chunks read in the
 * same turn of the event loop would leave as one writev. Measured to see whether request and
 * response traffic ever has more than one chunk per turn to batch (it pays a nextTick per turn).
 */
export class CorkingRelay extends ByteRelay {
  constructor(client: Duplex, backend: net.Socket) {
    super(corkedWrites(client), corkedWrites(backend));
  }
}

const uncork = (stream: Duplex & { corkedThisTurn?: boolean }): void => {
  stream.corkedThisTurn = false;
  stream.uncork();
};

/** The same stream, its write() corking until the end of the current tick. */
function corkedWrites<S extends Duplex>(stream: S): S {
  const corkable = stream as S & { corkedThisTurn?: boolean };
  const write = stream.write.bind(stream) as (chunk: Buffer) => boolean;
  corkable.write = ((chunk: Buffer): boolean => {
    if (corkable.corkedThisTurn !== true) {
      corkable.corkedThisTurn = true;
      stream.cork();
      process.nextTick(uncork, corkable);
    }
    return write(chunk);
  }) as S['write'];
  return corkable;
}
