import { endsWithReadyForQuery, READY_FOR_QUERY_TAIL } from '../../src/wire/parser.js';

/**
 * src/proxy/idle-tracker.ts's IdleTracker, same public methods and the same answers, without a
 * Buffer#copy per backend chunk. `chunk.copy(tail, 0, start)` with a start past 0 builds a
 * Uint8Array view of the source on every call (node's _copyActual), so each relayed chunk left
 * an object behind for the scavenger. Here a chunk that holds a whole ReadyForQuery is read in
 * place, and its last bytes are kept with a byte loop (the next chunk may be shorter than a
 * ReadyForQuery and finish one that began here). No relayed chunk is referenced afterwards: a
 * relay may reuse or free it.
 */
export class TailIdleTracker {
  private readonly tail = Buffer.alloc(READY_FOR_QUERY_TAIL);
  private tailLength = 0;
  private atBoundary: boolean;
  private clientQuiet: boolean;

  constructor(startIdle: boolean) {
    this.atBoundary = startIdle;
    this.clientQuiet = startIdle;
  }

  clientBytes(): void {
    this.clientQuiet = false;
  }

  backendBytes(chunk: Buffer): void {
    const size = READY_FOR_QUERY_TAIL;
    const n = chunk.length;
    const tail = this.tail;
    if (n >= size) {
      this.atBoundary = endsWithReadyForQuery(chunk);
      for (let i = 0, from = n - size; i < size; i++, from++) tail[i] = chunk[from] as number;
      this.tailLength = size;
    } else {
      // Rare (a read that ended a few bytes into a message): shift the old tail left, append.
      const keep = Math.min(this.tailLength, size - n);
      for (let i = 0, from = this.tailLength - keep; i < keep; i++, from++) tail[i] = tail[from] as number;
      for (let i = 0; i < n; i++) tail[keep + i] = chunk[i] as number;
      this.tailLength = keep + n;
      this.atBoundary = this.tailLength === size && endsWithReadyForQuery(tail);
    }
    // A new ReadyForQuery answers whatever the client had sent.
    if (this.atBoundary) this.clientQuiet = true;
  }

  /** Between backend messages: a FATAL may be written to the client. */
  isAtBoundary(): boolean {
    return this.atBoundary;
  }

  /** At a boundary with no query in flight. */
  isIdle(): boolean {
    return this.atBoundary && this.clientQuiet;
  }
}
