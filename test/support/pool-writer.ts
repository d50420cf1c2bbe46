/**
 * An application's connection pool writing through the router: `size` long-lived pg.Pool
 * connections, each inserting a row every `intervalMs`, every outcome recorded with the time
 * and, for errors, who caused it.
 */
import pg from 'pg';
import { classifyClientError, type ClassifiedError } from './client-error-cause.js';

export interface PoolWrite {
  at: number;
  ok: boolean;
  code?: string;
  message?: string;
  classified?: ClassifiedError;
  /** The error came while opening a new connection. */
  connecting?: boolean;
}

export class PoolWriter {
  readonly writes: PoolWrite[] = [];
  private readonly pool: pg.Pool;
  private running = false;
  private workers: Promise<void>[] = [];

  constructor(
    connection: pg.ClientConfig,
    private readonly size = 5,
    private readonly intervalMs = 10,
    private readonly note = 'pool-writer',
  ) {
    // Connections live for the whole test: the pool neither ages nor idles them out.
    this.pool = new pg.Pool({ ...connection, max: size, idleTimeoutMillis: 0, connectionTimeoutMillis: 60_000 });
    this.pool.on('error', () => undefined);
  }

  start(): void {
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

  errorsBetween(from: number, to: number): PoolWrite[] {
    return this.writes.filter((w) => !w.ok && w.at >= from && w.at < to);
  }

  private async work(): Promise<void> {
    while (this.running) {
      try {
        await this.pool.query('INSERT INTO router_probe (note) VALUES ($1)', [this.note]);
        this.writes.push({ at: Date.now(), ok: true });
      } catch (error) {
        const err = error as Error & { code?: string };
        this.writes.push({ at: Date.now(), ok: false, ...(err.code ? { code: err.code } : {}), message: err.message, classified: classifyClientError(err.code, err.message) });
      }
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }
}
