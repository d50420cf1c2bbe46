/**
 * A Java application writing through the router: PgjdbcWriter.java's `size` pgjdbc connections
 * in one JVM, each inserting a row every `intervalMs` and reconnecting after an error. Its
 * JSON lines become the same records as PoolWriter's, every error classified by who caused
 * it, so one test can hold both to the same rules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { forgetProcess, registerProcess } from '../cluster/process-registry.js';
import { classifyClientError } from './client-error-cause.js';
import { pgjdbcClasses, pgjdbcJvm } from './drivers/pgjdbc.js';
import type { PoolWrite } from './pool-writer.js';

export interface PgjdbcSummary {
  writes: number;
  errors: number;
  connects: number;
}

interface Batch {
  at: number;
  count: number;
}

export class PgjdbcWriter {
  private readonly batches: Batch[] = [];
  private readonly errors: PoolWrite[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<PgjdbcSummary> | undefined;
  private stderr = '';
  private stopping = false;
  /** Why the JVM ended before stop(), once it has. */
  private ended: string | undefined;

  constructor(
    private readonly connection: { host: string; port: number; user: string; database: string; password?: string },
    private readonly size = 5,
    private readonly intervalMs = 10,
    private readonly note = 'pgjdbc-writer',
  ) {}

  async start(): Promise<void> {
    const classes = await pgjdbcClasses();
    const { host, port, database, user } = this.connection;
    const args = pgjdbcJvm(classes, 'PgjdbcWriter', [host, String(port), database, user, this.note, String(this.size), String(this.intervalMs)]);
    // Its own process group, registered, so a test that dies cannot leave the JVM writing.
    const env = this.connection.password !== undefined ? { ...process.env, PGPASSWORD: this.connection.password } : process.env;
    const child = spawn('java', args, { cwd: classes, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child = child;
    const pid = child.pid;
    if (pid !== undefined) registerProcess(pid, 'pgjdbc writer', 'PgjdbcWriter');
    child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString('utf8')).slice(-4_000)));
    let summary: PgjdbcSummary | undefined;
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (record['kind'] === 'writes') this.batches.push({ at: Number(record['at']), count: Number(record['count']) });
      else if (record['kind'] === 'error') {
        const code = typeof record['sqlstate'] === 'string' ? record['sqlstate'] : undefined;
        const message = String(record['message']);
        this.errors.push({
          at: Number(record['at']),
          ok: false,
          ...(code ? { code } : {}),
          message,
          classified: classifyClientError(code, message),
          ...(record['connecting'] === true ? { connecting: true } : {}),
        });
      } else if (record['kind'] === 'summary') summary = { writes: Number(record['writes']), errors: Number(record['errors']), connects: Number(record['connects']) };
    });
    this.exited = new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        if (pid !== undefined) forgetProcess(pid);
        if (!this.stopping) this.ended = `PgjdbcWriter exited ${code ?? signal ?? '?'} before it was stopped: ${this.stderr}`;
        if (summary !== undefined && code === 0) resolve(summary);
        else reject(new Error(`PgjdbcWriter exited ${code ?? signal ?? '?'} without a summary: ${this.stderr}`));
      });
    });
    // Seen as soon as it ends, not only at stop().
    this.exited.catch(() => undefined);
  }

  /** Throws once the JVM has died, so a waitFor on it says why instead of timing out. */
  successesSince(t: number): number {
    if (this.ended !== undefined) throw new Error(this.ended);
    return this.batches.reduce((n, b) => n + (b.at >= t ? b.count : 0), 0);
  }

  errorsBetween(from: number, to: number): PoolWrite[] {
    return this.errors.filter((e) => e.at >= from && e.at < to);
  }

  /** Closes its stdin, which stops it; resolves with its own summary. */
  async stop(): Promise<PgjdbcSummary | undefined> {
    const child = this.child;
    if (child === undefined || this.exited === undefined) return undefined;
    this.stopping = true;
    child.stdin?.end();
    const killer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    }, 20_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(killer);
    }
  }
}
