/**
 * Hostile clients on real sockets: each connects to a listener, sends its payload and then
 * says nothing more. What the router answered and when it closed the connection is recorded,
 * so the run can judge that every one was let go within startup_timeout.
 */
import net from 'node:net';
import { waitFor } from '../../test/cluster/wait-for.js';
import { parseError } from '../../src/wire/parser.js';
import type { HostilePayload } from './hostile-payloads.js';

export interface HostileTarget {
  listener: string;
  port: number;
}

export interface HostileOutcome {
  variant: string;
  listener: string;
  /** What came back before the close, e.g. "S", "E 08P01", "nothing". */
  answer: string;
  /** From connect to the router's close; undefined when the router never closed it. */
  closedAfterMs?: number;
  /** From connect to the router's first byte back (an SSLRequest's S or N, an error). */
  answeredAfterMs?: number;
  /** A socket error on our side (ECONNRESET counts as closed). */
  error?: string;
}

/** "S"/"N" for an SSLRequest's answer, "E <sqlstate>" for an ErrorResponse, else the first byte. */
export function describeAnswer(bytes: Buffer): string {
  if (bytes.length === 0) return 'nothing';
  const first = String.fromCharCode(bytes[0] as number);
  if (first === 'S' || first === 'N') return bytes.length === 1 ? first : `${first} +${bytes.length - 1} bytes`;
  if (first === 'E' && bytes.length >= 5) {
    const length = bytes.readInt32BE(1);
    const error = parseError(bytes.subarray(5, 1 + length));
    return `E ${error.code ?? '?'}`;
  }
  return `0x${bytes.subarray(0, 1).toString('hex')}`;
}

class HostileSocket {
  private readonly received: Buffer[] = [];
  private connectedAt = 0;
  closedAfterMs: number | undefined;
  answeredAfterMs: number | undefined;
  error: string | undefined;
  readonly socket: net.Socket;

  constructor(
    readonly target: HostileTarget,
    readonly payload: HostilePayload<string>,
  ) {
    this.socket = net.connect({ host: '127.0.0.1', port: target.port });
    this.socket.on('connect', () => {
      this.connectedAt = Date.now();
      this.socket.write(payload.bytes);
    });
    this.socket.on('data', (chunk: Buffer) => {
      this.answeredAfterMs ??= Date.now() - this.connectedAt;
      if (this.received.reduce((n, b) => n + b.length, 0) < 4096) this.received.push(chunk);
    });
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error = error.code ?? error.message;
    });
    this.socket.on('close', () => {
      this.closedAfterMs = Date.now() - (this.connectedAt || Date.now());
    });
  }

  outcome(): HostileOutcome {
    return {
      variant: this.payload.variant,
      listener: this.target.listener,
      answer: describeAnswer(Buffer.concat(this.received)),
      ...(this.closedAfterMs === undefined ? {} : { closedAfterMs: this.closedAfterMs }),
      ...(this.answeredAfterMs === undefined ? {} : { answeredAfterMs: this.answeredAfterMs }),
      ...(this.error === undefined ? {} : { error: this.error }),
    };
  }
}

/**
 * Opens one socket per payload (targets taken in turn), then waits until the router has
 * closed all of them or `closeWithinMs` has passed; sockets still open then are closed by us
 * and reported without `closedAfterMs`.
 */
export async function runHostileClients(targets: readonly HostileTarget[], payloads: readonly HostilePayload<string>[], closeWithinMs: number): Promise<HostileOutcome[]> {
  const sockets = payloads.map((p, i) => new HostileSocket(targets[i % targets.length] as HostileTarget, p));
  try {
    await waitFor('the router to close every hostile client', () => sockets.every((s) => s.closedAfterMs !== undefined), { timeoutMs: closeWithinMs, intervalMs: 100 });
  } catch {
    // Judged from the outcomes: the ones still open have no closedAfterMs.
  }
  const outcomes = sockets.map((s) => s.outcome());
  for (const s of sockets) s.socket.destroy();
  return outcomes;
}
