/**
 * pgbench through one listener for the whole run. pgbench drops a client for good at its
 * first error (and stops once all have), so it runs in segments of `segmentSeconds` and is
 * started again whenever it ends; every error line is kept with the time it was printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { forgetProcess, registerProcess } from '../../test/cluster/process-registry.js';
import { signal } from '../../test/cluster/proc-table.js';
import type { ClientError } from './client-errors.js';
import { parsePgbenchErrorLine } from './pgbench-errors.js';

export interface PgbenchLoadSpec {
  /** e.g. "pgbench/primary". */
  name: string;
  listener: string;
  port: number;
  user: string;
  password: string;
  applicationName: string;
  clients: number;
  /** -R: transactions per second for all clients together (a paced load, not a flood). */
  rate: number;
  /** What to run, e.g. ['-S'] or ['-b', 'select-only@1', '-f', 'write.sql@1']. */
  scripts: string[];
  segmentSeconds: number;
}

const PROGRESS_SECONDS = 5;

export class PgbenchLoad {
  readonly errors: ClientError[] = [];
  /** From pgbench's progress lines (tps × interval), so a segment cut short still counts. */
  transactions = 0;
  segments = 0;
  private child: ChildProcess | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(readonly spec: PgbenchLoadSpec) {}

  start(): void {
    this.running = true;
    this.loop = this.supervise();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    const child = this.child;
    if (child?.pid !== undefined) signal(-child.pid, 'SIGTERM');
    await this.loop;
  }

  private async supervise(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      await this.runSegment();
      // Pacing, not waiting for a condition: a segment that ended at once (no primary, a full
      // member) is not restarted in a tight loop.
      if (this.running && Date.now() - started < 2_000)
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
          setTimeout(resolve, 1_000);
        });
    }
  }

  private runSegment(): Promise<void> {
    const s = this.spec;
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PG')) env[key] = value;
    Object.assign(env, { PGPASSWORD: s.password, PGAPPNAME: s.applicationName, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '60' });
    const args = [
      '-n',
      '-h',
      '127.0.0.1',
      '-p',
      String(s.port),
      '-U',
      s.user,
      '-c',
      String(s.clients),
      '-j',
      '1',
      '-T',
      String(s.segmentSeconds),
      '-R',
      String(s.rate),
      '-P',
      String(PROGRESS_SECONDS),
      ...s.scripts,
      'postgres',
    ];
    return new Promise((resolve) => {
      const child = spawn('pgbench', args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      this.segments++;
      if (child.pid !== undefined) registerProcess(child.pid, `pgbench (chaos ${s.name})`, `-p ${s.port}`);
      let partial = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.onLine(line);
      });
      child.stdout?.resume();
      child.on('error', () => undefined);
      child.on('close', () => {
        if (partial !== '') this.onLine(partial);
        if (child.pid !== undefined) forgetProcess(child.pid);
        this.child = undefined;
        resolve();
      });
    });
  }

  private onLine(line: string): void {
    const progress = /^progress: [0-9.]+ s, ([0-9.]+) tps/.exec(line);
    if (progress?.[1] !== undefined) {
      this.transactions += Math.round(Number(progress[1]) * PROGRESS_SECONDS);
      return;
    }
    const error = parsePgbenchErrorLine(line);
    if (error === undefined) return;
    this.errors.push({
      at: Date.now(),
      source: this.spec.name,
      listener: this.spec.listener,
      ...(error.code === undefined ? {} : { code: error.code }),
      message: error.message,
      classified: error.classified,
    });
  }
}
