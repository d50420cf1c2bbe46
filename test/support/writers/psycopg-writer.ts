/**
 * A Python application writing through the router: psycopg_writer.py's `size` psycopg 3
 * sessions held open in one process, each inserting a row every `intervalMs` and reconnecting
 * after an error. Its errors are classified by who caused them, as the pooled writers' are.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { classifyClientError, type ClassifiedError } from '../client-error-cause.js';

export interface HeldWriterError {
  at: number;
  code?: string;
  message: string;
  classified: ClassifiedError;
  /** The error came while opening a new connection. */
  connecting?: boolean;
}

export class PsycopgWriter {
  readonly errors: HeldWriterError[] = [];
  private readonly batches: Array<{ at: number; count: number }> = [];
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private ended: string | undefined;
  private stderr = '';

  constructor(
    private readonly endpoint: { host: string; port: number; user: string; password: string; database: string },
    readonly name: string,
    private readonly size = 5,
    private readonly intervalMs = 10,
  ) {}

  start(): void {
    const here = fileURLToPath(new URL('.', import.meta.url));
    // Debian's interpreter, where python3-psycopg is; -E ignores PYTHON* variables, -s the user's site.
    const child = spawn('/usr/bin/python3', ['-E', '-s', '-B', 'psycopg_writer.py'], { cwd: here, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString('utf8')).slice(-4_000)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (record['kind'] === 'writes') this.batches.push({ at: Number(record['at']), count: Number(record['count']) });
      else if (record['kind'] === 'error') {
        const code = typeof record['sqlstate'] === 'string' ? record['sqlstate'] : undefined;
        const message = String(record['message']);
        this.errors.push({
          at: Number(record['at']),
          ...(code !== undefined ? { code } : {}),
          message,
          classified: classifyClientError(code, message),
          ...(record['connecting'] === true ? { connecting: true } : {}),
        });
      }
    });
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        if (this.child !== undefined) this.ended = `psycopg writer exited ${code ?? signal ?? '?'}: ${this.stderr}`;
        resolve();
      });
    });
    child.stdin?.write(`${JSON.stringify({ endpoint: this.endpoint, size: this.size, intervalMs: this.intervalMs, note: this.name })}\n`);
  }

  /** Throws once the process has died, so a waitFor on it says why instead of timing out. */
  successesSince(t: number): number {
    if (this.ended !== undefined) throw new Error(this.ended);
    return this.batches.reduce((n, b) => n + (b.at >= t ? b.count : 0), 0);
  }

  errorsBetween(from: number, to: number): HeldWriterError[] {
    return this.errors.filter((e) => e.at >= from && e.at < to);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined) return;
    child.stdin?.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(killer);
  }
}
