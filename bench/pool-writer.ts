import pg from 'pg';
import { codeOfError, type WriteAttempt } from './write-attempts.js';
import { WRITES_TABLE, type WriteTarget } from './writer.js';

/** One request of the pooled writer: a WriteAttempt with the row's number within its pool. */
export interface PoolAttempt extends WriteAttempt {
  seq: number;
}

export interface PooledWriterOptions {
  user: string;
  password: string;
  database: string;
  /** Connections the pool holds, each written through by its own worker. */
  size: number;
  /** Each worker's pause after every request, answered or failed. */
  intervalMs: number;
}

/**
 * Safety nets only, longer than any hold or move the proxies make (the router holds for ttl +
 * loop_wait, 40 s here), so every wait recorded is the proxy's and not cut short by the client.
 */
const CONNECT_TIMEOUT_MS = 60_000;
const QUERY_TIMEOUT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An application's connection pool: a pg.Pool of `size` long-lived connections, all opened
 * before the writes begin, each with a worker that takes it from the pool, inserts one numbered
 * row and gives it back, every `intervalMs`. A connection that failed is dropped (pg.Pool's
 * `release(error)`) and the pool opens a new one on the next request, as applications do. Every
 * request is recorded from the moment the worker asks the pool (at once for a pooled connection;
 * a new login when the pool had to replace one) to its answer.
 */
export class PooledWriter {
  readonly attempts: PoolAttempt[] = [];
  private readonly pool: pg.Pool;
  private running = false;
  private workers: Promise<void>[] = [];
  private seq = 0;
  /** Connections the pool opened, the first `size` included: more means it replaced some. */
  opened = 0;

  constructor(
    readonly label: string,
    target: WriteTarget,
    private readonly round: string,
    private readonly opts: PooledWriterOptions,
  ) {
    this.pool = new pg.Pool({
      host: target.host,
      port: target.port,
      user: opts.user,
      password: opts.password,
      database: opts.database,
      application_name: `bench-${label}`,
      max: opts.size,
      // Long-lived: the pool neither ages nor idles its connections out.
      idleTimeoutMillis: 0,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
    });
    // An idle connection whose server went away: the pool drops it; the next request says more.
    this.pool.on('error', () => undefined);
    // A checked-out connection has no pool listener: a FATAL between two requests (a member's
    // 57P01 just after an answer) would be an unhandled 'error'. The request in flight, or the
    // next one, reports it.
    this.pool.on('connect', (client) => {
      this.opened++;
      client.on('error', () => undefined);
    });
  }

  /** Opens every connection (all `size` of them are then idle in the pool), then starts writing. */
  async start(): Promise<void> {
    const clients = await Promise.all(Array.from({ length: this.opts.size }, () => this.pool.connect()));
    for (const c of clients) c.release();
    this.running = true;
    this.workers = Array.from({ length: this.opts.size }, () => this.work());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    await this.pool.end().catch(() => undefined);
  }

  private async work(): Promise<void> {
    while (this.running) {
      const seq = ++this.seq;
      const startedAt = Date.now();
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        this.attempts.push({ seq, startedAt, at: Date.now(), step: 'connect', ok: false, code: codeOfError(error), message: (error as Error).message });
        await sleep(this.opts.intervalMs);
        continue;
      }
      try {
        const result = await client.query<{ id: string }>(`INSERT INTO ${WRITES_TABLE} (writer, round, seq) VALUES ($1, $2, $3) RETURNING id`, [this.label, this.round, seq]);
        client.release();
        this.attempts.push({ seq, startedAt, at: Date.now(), step: 'insert', ok: true, rowId: Number(result.rows[0]?.id) });
      } catch (error) {
        // Dropped, not given back: the pool replaces it on a later request.
        client.release(error as Error);
        this.attempts.push({ seq, startedAt, at: Date.now(), step: 'insert', ok: false, code: codeOfError(error), message: (error as Error).message });
      }
      // Pacing, not waiting for a condition: a pooled application writes at its own rhythm.
      await sleep(this.opts.intervalMs);
    }
  }
}
