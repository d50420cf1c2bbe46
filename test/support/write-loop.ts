/**
 * The client every failover test imitates: one INSERT every `intervalMs` over one connection,
 * reconnecting (through the same endpoint) after any error, and recording every attempt.
 */
import pg from 'pg';

export interface WriteAttempt {
  /** When the attempt began (before connecting, for a new connection). */
  startedAt: number;
  /** When it finished. */
  at: number;
  ok: boolean;
  /** The attempt opened a new connection (first, or after an error). */
  newConnection: boolean;
  code?: string;
  message?: string;
}

export class WriteLoop {
  readonly attempts: WriteAttempt[] = [];
  /** The process id of each connection's BackendKeyData; with router workers, its top byte names the worker. */
  readonly processIds: number[] = [];
  private running = false;
  private done: Promise<void> | undefined;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly note: string,
    private readonly intervalMs = 10,
    /** 'fresh': every attempt opens its own connection (what a pool refilling during a failover does). */
    private readonly mode: 'persistent' | 'fresh' = 'persistent',
  ) {}

  start(): void {
    this.running = true;
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  successes(): WriteAttempt[] {
    return this.attempts.filter((a) => a.ok);
  }

  failures(): WriteAttempt[] {
    return this.attempts.filter((a) => !a.ok);
  }

  /** The first successful write at or after `since`. */
  firstSuccessAfter(since: number): WriteAttempt | undefined {
    return this.attempts.find((a) => a.ok && a.at >= since);
  }

  private async loop(): Promise<void> {
    let client: pg.Client | undefined;
    while (this.running) {
      const newConnection = client === undefined;
      const startedAt = Date.now();
      try {
        if (client === undefined) {
          const fresh = new pg.Client({ ...this.connection, connectionTimeoutMillis: 60_000 });
          // A session closed under us reports here too; the next query fails and we reconnect.
          fresh.on('error', () => undefined);
          client = fresh;
          await fresh.connect();
          this.processIds.push((fresh as pg.Client & { processID: number }).processID);
        }
        await client.query('INSERT INTO router_probe (note) VALUES ($1)', [this.note]);
        this.attempts.push({ startedAt, at: Date.now(), ok: true, newConnection });
        if (this.mode === 'fresh') {
          await client.end();
          client = undefined;
        }
      } catch (error) {
        const err = error as Error & { code?: string };
        this.attempts.push({ startedAt, at: Date.now(), ok: false, newConnection, ...(err.code ? { code: err.code } : {}), message: err.message });
        void client?.end().catch(() => undefined);
        client = undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
    await client?.end().catch(() => undefined);
  }
}
