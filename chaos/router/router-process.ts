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
      args: [cli, '--config', configFile, '--log-format', 'json'],
      logFile,
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' },
      matches: configFile,
    });
    const router = new RouterUnderChaos(proc, logFile);
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

  tail(lines = 30): string {
    return logTail(this.logFile, lines);
  }

  /** SIGTERM, SIGKILL after `graceMs` (beyond the router's 30 s drain_timeout). */
  stop(graceMs = 45_000): Promise<ExitStatus> {
    return this.proc.stop(graceMs);
  }
}
