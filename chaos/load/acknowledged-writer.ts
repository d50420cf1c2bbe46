/**
 * An application's pool writing numbered rows through a listener for the whole run, each
 * INSERT answered with the port of the server that ran it, so the run can check afterwards
 * who acknowledged every write and that each acknowledged write is there exactly once.
 * Needs `chaos_writes (writer text, seq int)` the user may write.
 */
import pg from 'pg';
import { classifyClientError } from '../../test/support/client-error-cause.js';
import type { ClientError } from './client-errors.js';

export interface AcknowledgedWrite {
  seq: number;
  /** When the INSERT was sent and when its answer came. */
  sent: number;
  at: number;
  /** inet_server_port() of the server that acknowledged it. */
  port: number;
}

export class AcknowledgedWriter {
  readonly acknowledged: AcknowledgedWrite[] = [];
  readonly errors: ClientError[] = [];
  /** Every seq sent, acknowledged or not (an unanswered one may or may not be in the table). */
  sentCount = 0;
  private readonly pool: pg.Pool;
  private running = false;
  private workers: Promise<void>[] = [];
  private seq = 0;

  constructor(
    connection: pg.PoolConfig,
    /** The writer's name in the table and the report, e.g. "writer/primary". */
    readonly name: string,
    readonly listener: string,
    private readonly size: number,
    private readonly intervalMs: number,
  ) {
    // Long-lived connections, as an application pool keeps them: neither aged nor idled out.
    this.pool = new pg.Pool({ ...connection, max: size, idleTimeoutMillis: 0, connectionTimeoutMillis: 60_000 });
    this.pool.on('error', () => undefined);
  }

  /** Opens every connection first, then writes. */
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
    let n = 0;
    for (let i = this.acknowledged.length - 1; i >= 0 && (this.acknowledged[i] as AcknowledgedWrite).at >= t; i--) n++;
    return n;
  }

  private async work(): Promise<void> {
    while (this.running) {
      const seq = ++this.seq;
      this.sentCount++;
      const sent = Date.now();
      try {
        const result = await this.pool.query<{ port: number }>('INSERT INTO chaos_writes (writer, seq) VALUES ($1, $2) RETURNING inet_server_port() AS port', [this.name, seq]);
        this.acknowledged.push({ seq, sent, at: Date.now(), port: Number(result.rows[0]?.port) });
      } catch (error) {
        const err = error as Error & { code?: string };
        this.errors.push({
          at: Date.now(),
          source: this.name,
          listener: this.listener,
          ...(err.code === undefined ? {} : { code: err.code }),
          message: err.message,
          classified: classifyClientError(err.code, err.message),
        });
      }
      // Pacing, not waiting for a condition: an application writes at its own rhythm.
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }
}
