/**
 * A pool of long-lived connections writing numbered rows through the router, so a test can
 * check afterwards that every acknowledged write is there exactly once: each connection's
 * worker inserts (writer, seq) every `intervalMs` and records the outcome with the time and,
 * for an error, who caused it. Needs `move_writes (writer text, seq int)` the user may write.
 */
import pg from 'pg';
import { classifyClientError, type ClassifiedError } from './client-error-cause.js';

export interface SequencedWrite {
  /** When the answer came. */
  at: number;
  /** When the INSERT was sent. */
  sent: number;
  seq: number;
  ok: boolean;
  /** How long the INSERT took, from sending to its answer. */
  ms: number;
  /** The port of the member that ran the INSERT (its answer), so a missing row names who acknowledged it. */
  port?: number;
  /** The error came while getting a connection (a new one), not from the INSERT on an open one. */
  connecting?: boolean;
  code?: string;
  message?: string;
  classified?: ClassifiedError;
}

export class SequencedWriter {
  readonly writes: SequencedWrite[] = [];
  private readonly pool: pg.Pool;
  private running = false;
  private workers: Promise<void>[] = [];
  private seq = 0;
  /** Clients with an error listener of ours, so each gets one however often the pool lends it. */
  private readonly heard = new WeakSet<pg.PoolClient>();

  constructor(
    connection: pg.ClientConfig,
    readonly name: string,
    readonly size: number,
    private readonly intervalMs = 10,
  ) {
    // Connections live for the whole test: the pool neither ages nor idles them out.
    this.pool = new pg.Pool({ ...connection, max: size, idleTimeoutMillis: 0, connectionTimeoutMillis: 60_000 });
    this.pool.on('error', () => undefined);
  }

  /** Opens every connection first (all `size` of them are then in the pool), then writes. */
  async start(): Promise<void> {
    const clients = await Promise.all(Array.from({ length: this.size }, () => this.pool.connect()));
    for (const c of clients) c.release();
    this.running = true;
    this.workers = Array.from({ length: this.size }, () => this.work());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    await this.pool.end();
  }

  successesSince(t: number): number {
    return this.writes.filter((w) => w.ok && w.at >= t).length;
  }

  errorsBetween(from: number, to: number): SequencedWrite[] {
    return this.writes.filter((w) => !w.ok && w.at >= from && w.at < to);
  }

  /** The longest an INSERT waited for its answer between `from` and `to`. */
  longestWaitBetween(from: number, to: number): number {
    return Math.max(0, ...this.writes.filter((w) => w.at >= from && w.at < to).map((w) => w.ms));
  }

  /** The seqs of the writes the server acknowledged, answered in [from, to). */
  acknowledged(from = 0, to = Infinity): number[] {
    return this.writes.filter((w) => w.ok && w.at >= from && w.at < to).map((w) => w.seq);
  }

  private async work(): Promise<void> {
    while (this.running) {
      const seq = ++this.seq;
      const sent = Date.now();
      let client: pg.PoolClient | undefined;
      try {
        client = await this.pool.connect();
        // A checked-out client whose connection ends emits 'error' besides failing its query (which reports it).
        if (!this.heard.has(client)) {
          this.heard.add(client);
          client.on('error', () => undefined);
        }
        const result = await client.query<{ port: number }>('INSERT INTO move_writes (writer, seq) VALUES ($1, $2) RETURNING inet_server_port() AS port', [this.name, seq]);
        client.release();
        this.writes.push({ at: Date.now(), sent, seq, ok: true, ms: Date.now() - sent, ...(result.rows[0] ? { port: result.rows[0].port } : {}) });
      } catch (error) {
        // A connection that failed is not given back to the pool for reuse.
        client?.release(true);
        const err = error as Error & { code?: string };
        this.writes.push({
          at: Date.now(),
          sent,
          seq,
          ok: false,
          ms: Date.now() - sent,
          connecting: client === undefined,
          ...(err.code ? { code: err.code } : {}),
          message: err.message,
          classified: classifyClientError(err.code, err.message),
        });
      }
      // Pacing, not waiting for a condition: a pooled application writes at its own rhythm.
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }
}
