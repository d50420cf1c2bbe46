import pg from 'pg';
import { RYW_TABLE } from './split-workload.js';

/**
 * The bench's read-your-writes checker (after test/support/read-your-writes/, which the build
 * does not include): one node-postgres session through a proxy that, every `intervalMs`,
 * writes a new value to its own row and reads it back at once in autocommit, until stopped.
 * Every other write runs in a transaction of its own (BEGIN, UPDATE, COMMIT apart), as ORMs
 * write: a read after a COMMIT must see it too.
 * A read that sees anything else (an older value, or no row) is stale. Each read also asks
 * inet_server_port(), so the checker says which member answered it. Simple-protocol queries,
 * as pgbench sends its own.
 */
export interface CheckerOutcome {
  iterations: number;
  stale: number;
  /** Reads answered, by the answering member's port. */
  readsByPort: Record<string, number>;
  errors: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class ReadYourWritesChecker {
  private running = false;
  private loop: Promise<CheckerOutcome> | undefined;

  constructor(
    private readonly target: { host: string; port: number; user: string; database: string },
    private readonly key: string,
    private readonly intervalMs: number,
  ) {
    if (!/^[A-Za-z0-9_-]+$/.test(key)) throw new Error(`checker key "${key}": letters, digits, - and _ only`);
  }

  /** Resolves once the session is open and its row exists, so the run can start. */
  async start(): Promise<void> {
    const client = new pg.Client({ ...this.target, connectionTimeoutMillis: 10_000, application_name: 'bench-ryw' });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(`INSERT INTO ${RYW_TABLE} (k, v) VALUES ('${this.key}', 0) ON CONFLICT (k) DO UPDATE SET v = 0`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.running = true;
    this.loop = this.run(client);
  }

  async stop(): Promise<CheckerOutcome> {
    this.running = false;
    if (!this.loop) return { iterations: 0, stale: 0, readsByPort: {}, errors: ['never started'] };
    return this.loop;
  }

  private async run(client: pg.Client): Promise<CheckerOutcome> {
    const outcome: CheckerOutcome = { iterations: 0, stale: 0, readsByPort: {}, errors: [] };
    try {
      for (let i = 1; this.running; i++) {
        const began = Date.now();
        try {
          const inTransaction = i % 2 === 0;
          if (inTransaction) await client.query('BEGIN');
          await client.query(`UPDATE ${RYW_TABLE} SET v = ${i} WHERE k = '${this.key}'`);
          if (inTransaction) await client.query('COMMIT');
          const row = (await client.query<{ v: string | null; port: number }>(`SELECT (SELECT v FROM ${RYW_TABLE} WHERE k = '${this.key}') AS v, inet_server_port() AS port`))
            .rows[0];
          const port = String(row?.port);
          outcome.readsByPort[port] = (outcome.readsByPort[port] ?? 0) + 1;
          if (row?.v !== String(i)) outcome.stale++;
          outcome.iterations = i;
        } catch (error) {
          const err = error as Error & { code?: string };
          outcome.errors.push(`${err.code ?? 'no code'}: ${err.message}`);
          if (outcome.errors.length >= 5) break;
        }
        const rest = this.intervalMs - (Date.now() - began);
        if (rest > 0) await sleep(rest);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    return outcome;
  }
}
