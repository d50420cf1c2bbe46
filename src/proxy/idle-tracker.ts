import { endsWithReadyForQuery, READY_FOR_QUERY_TAIL } from '../wire/parser.js';

/**
 * Knows, without framing the hot path, where a relayed session stands:
 * - at a boundary: the backend's last bytes were a ReadyForQuery, so a message of the router's
 *   own (a FATAL) can follow without corrupting what the client reads, even if the client has
 *   sent a query the backend has not answered yet;
 * - idle: at a boundary and the client has sent nothing since (no query in flight).
 * Only the last few backend bytes are kept, copied, so no relayed chunk is held in memory.
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
    const size = this.tail.length;
    if (chunk.length >= size) {
      chunk.copy(this.tail, 0, chunk.length - size);
      this.tailLength = size;
    } else {
      const keep = Math.min(this.tailLength, size - chunk.length);
      this.tail.copy(this.tail, 0, this.tailLength - keep, this.tailLength);
      chunk.copy(this.tail, keep);
      this.tailLength = keep + chunk.length;
    }
    this.atBoundary = this.tailLength === size && endsWithReadyForQuery(this.tail);
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
