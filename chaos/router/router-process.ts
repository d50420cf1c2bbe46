/**
 * The router under chaos as an operator runs it: `node dist/src/cli.js --config FILE` in a
 * process of its own (so its RSS and file descriptors can be read from /proc/<pid>), JSON log
 * lines to a file, killable by the harness's registry if this run dies.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpawnedProcess, type ExitStatus } from '../../test/cluster/spawned-process.js';
import { waitFor } from '../../test/cluster/wait-for.js';
import { logTail } from '../../test/cluster/log-tail.js';
import type { AdminClient } from './admin-client.js';

export type LogLine = Record<string, unknown> & { msg?: string; level?: number; time?: number };

export class RouterUnderChaos {
  private constructor(
    private readonly proc: SpawnedProcess,
    readonly logFile: string,
    private readonly dir: string,
  ) {}

  /** Writes `configText` to `dir` and starts the router; resolves once /ready answers 200. */
  static async start(configText: string, dir: string, admin: AdminClient): Promise<RouterUnderChaos> {
    const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
    if (!fs.existsSync(cli)) throw new Error(`the router is not built: ${cli} is missing (npm run build)`);
    const configFile = path.join(dir, 'router.yaml');
    const logFile = path.join(dir, 'router.log');
    fs.writeFileSync(configFile, configText, { mode: 0o600 });
    const proc = SpawnedProcess.start({
      what: 'patroni-router (chaos)',
      command: process.execPath,
      // SIGUSR2 makes V8 collect garbage and write a heap snapshot into `dir`: the live heap,
      // which RSS and heapUsed cannot tell apart from pages kept and garbage not yet collected.
      args: ['--heapsnapshot-signal=SIGUSR2', cli, '--config', configFile, '--log-format', 'json'],
      logFile,
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' },
      matches: configFile,
    });
    const router = new RouterUnderChaos(proc, logFile, dir);
    try {
      await waitFor(
        'the router to be ready (admin /ready 200)',
        async () => {
          if (!proc.running) throw new Error(`router ${proc.exitDescription ?? 'stopped'}`);
          return (await admin.status('/ready')) === 200;
        },
        { timeoutMs: 60_000, intervalMs: 250, diagnostics: () => logTail(logFile, 25) },
      );
    } catch (error) {
      await proc.kill();
      throw error;
    }
    return router;
  }

  get pid(): number {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.running;
  }

  get exited(): Promise<ExitStatus> {
    return this.proc.exited;
  }

  /** Every JSON line logged so far (a line that is not JSON is kept as its text). */
  logLines(): LogLine[] {
    const text = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        try {
          return JSON.parse(l) as LogLine;
        } catch {
          return { msg: l, unparsed: true };
        }
      });
  }

  /**
   * Has V8 write a heap snapshot and returns its text. The snapshot is written on the router's
   * main thread, so once the file exists the admin port answering again means it is complete.
   */
  async heapSnapshot(admin: AdminClient): Promise<string> {
    const snapshots = (): string[] => fs.readdirSync(this.dir).filter((f) => f.endsWith('.heapsnapshot'));
    const before = new Set(snapshots());
    process.kill(this.pid, 'SIGUSR2');
    let file = '';
    await waitFor(
      'the router to start its heap snapshot',
      () => {
        file = snapshots().find((f) => !before.has(f)) ?? '';
        return file !== '';
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await waitFor('the router to finish its heap snapshot (admin /ready answers)', async () => (await admin.status('/ready')) !== 0, {
      timeoutMs: 120_000,
      intervalMs: 250,
    });
    const full = path.join(this.dir, file);
    const text = fs.readFileSync(full, 'utf8');
    if (process.env.CHAOS_KEEP_HEAP_SNAPSHOTS) fs.renameSync(full, path.join(process.env.CHAOS_KEEP_HEAP_SNAPSHOTS, file));
    else fs.rmSync(full);
    return text;
  }

  tail(lines = 30): string {
    return logTail(this.logFile, lines);
  }

  /** SIGTERM, SIGKILL after `graceMs` (beyond the router's 30 s drain_timeout). */
  stop(graceMs = 45_000): Promise<ExitStatus> {
    return this.proc.stop(graceMs);
  }
}
