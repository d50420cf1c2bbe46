/**
 * Knows, without framing the hot path, whether a relayed session sits between messages:
 * the backend's last bytes were a ReadyForQuery ('Z', length 5, status I/T/E) and the client
 * has sent nothing since. Only the last six backend bytes are kept.
 */
export class IdleTracker {
  private tail: Buffer = Buffer.alloc(0);
  private idle = false;

  constructor(startIdle: boolean) {
    this.idle = startIdle;
  }

  clientBytes(): void {
    this.idle = false;
  }

  backendBytes(chunk: Buffer): void {
    this.tail = chunk.length >= 6 ? chunk.subarray(chunk.length - 6) : Buffer.concat([this.tail, chunk]).subarray(-6);
    this.idle = isReadyForQuery(this.tail);
  }

  isIdle(): boolean {
    return this.idle;
  }
}

function isReadyForQuery(b: Buffer): boolean {
  return (
    b.length === 6 &&
    b[0] === 0x5a &&
    b[1] === 0 &&
    b[2] === 0 &&
    b[3] === 0 &&
    b[4] === 5 &&
    (b[5] === 0x49 || b[5] === 0x54 || b[5] === 0x45)
  );
}
