import pg from 'pg';
import { codeOfError, type WriteAttempt } from './write-attempts.js';

/** A place a writer can connect to: a proxy's listener, or one member directly. */
export interface WriteTarget {
  name: string;
  host: string;
  port: number;
}

export const WRITES_TABLE = 'public.bench_writes';
/** `seq`: the pooled writer's number for each request (pool-writer.ts), so a row written twice shows; the single writers leave it empty. */
export const CREATE_WRITES_TABLE = `CREATE TABLE IF NOT EXISTS ${WRITES_TABLE} (id bigserial PRIMARY KEY, writer text NOT NULL, round text NOT NULL, at timestamptz NOT NULL DEFAULT now(), seq bigint)`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One INSERT every `intervalMs` through a session that is replaced by a fresh connection after
 * any error, recording every attempt. With several targets it is the oracle: on failure it moves
 * to the next member at once, so it writes to whichever member accepts first.
 */
export class Writer {
  readonly attempts: WriteAttempt[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private client: pg.Client | undefined;
  private targetIndex = 0;

  constructor(
    readonly label: string,
    private readonly targets: readonly WriteTarget[],
    private readonly round: string,
    private readonly opts: { user: string; database: string; intervalMs?: number; timeoutMs?: number },
  ) {
    if (targets.length === 0) throw new Error(`writer ${label} has no target`);
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.dropClient();
  }

  private get target(): WriteTarget {
    return this.targets[this.targetIndex % this.targets.length] as WriteTarget;
  }

  private record(attempt: WriteAttempt): void {
    this.attempts.push(attempt);
  }

  private async dropClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  /** After a failure: the oracle tries the next member immediately, except after a full cycle. */
  private async afterFailure(): Promise<void> {
    await this.dropClient();
    this.targetIndex++;
    if (this.targets.length === 1 || this.targetIndex % this.targets.length === 0) await sleep(this.opts.intervalMs ?? 10);
  }

  private async connect(): Promise<boolean> {
    const target = this.target;
    const timeoutMs = this.opts.timeoutMs ?? 3000;
    const client = new pg.Client({
      host: target.host,
      port: target.port,
      user: this.opts.user,
      database: this.opts.database,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      application_name: `bench-writer-${this.label}`,
    });
    // A backend that goes away while we sleep emits 'error'; the next query reports it.
    client.on('error', () => undefined);
    const startedAt = Date.now();
    try {
      await client.connect();
      this.client = client;
      this.record({ startedAt, at: Date.now(), step: 'connect', ok: true, member: target.name });
      return true;
    } catch (error) {
      this.record({ startedAt, at: Date.now(), step: 'connect', ok: false, code: codeOfError(error), message: (error as Error).message, member: target.name });
      await client.end().catch(() => undefined);
      return false;
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (!this.client && !(await this.connect())) {
        await this.afterFailure();
        continue;
      }
      const client = this.client as pg.Client;
      const target = this.target;
      const startedAt = Date.now();
      try {
        const result = await client.query<{ id: string }>(`INSERT INTO ${WRITES_TABLE} (writer, round) VALUES ($1, $2) RETURNING id`, [this.label, this.round]);
        this.record({ startedAt, at: Date.now(), step: 'insert', ok: true, member: target.name, rowId: Number(result.rows[0]?.id) });
        await sleep(this.opts.intervalMs ?? 10);
      } catch (error) {
        this.record({ startedAt, at: Date.now(), step: 'insert', ok: false, code: codeOfError(error), message: (error as Error).message, member: target.name });
        await this.afterFailure();
      }
    }
  }
}
