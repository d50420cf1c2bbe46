import { endsWithReadyForQuery, READY_FOR_QUERY_TAIL } from '../wire/parser.js';

/**
 * Knows, without framing the hot path, where a relayed session stands:
 * - at a boundary: the backend's last bytes were a ReadyForQuery, so a message of the router's
 *   own (a FATAL) can follow without corrupting what the client reads, even if the client has
 *   sent a query the backend has not answered yet;
 * - idle: at a boundary and the client has sent nothing since (no query in flight).
 * A chunk holding a whole ReadyForQuery is read in place; its last few bytes are kept with a
 * byte loop, since the next chunk may be shorter than a ReadyForQuery and finish one begun
 * here. (`Buffer#copy` with a source offset built a Uint8Array view per chunk.) No relayed
 * chunk is referenced afterwards: the relay may reuse or free it.
 */
export class IdleTracker {
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
