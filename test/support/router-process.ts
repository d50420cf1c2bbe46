/**
 * The router as an operator runs it: `node dist/src/cli.js --config FILE` in a child process,
 * its JSON log lines collected in memory, signals sent by pid, always killable.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { forgetProcess, registerProcess } from '../cluster/process-registry.js';
import { waitFor } from '../cluster/index.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

let built: Promise<void> | undefined;

/**
 * The child runs the compiled dist/, so it must match the sources: scripts/ensure-ready.sh
 * rebuilds when anything is newer than its stamp (and is quiet otherwise), as `npm test` does.
 */
export function ensureBuilt(): Promise<void> {
  built ??= new Promise<void>((resolve, reject) => {
    execFile('bash', ['scripts/ensure-ready.sh'], { cwd: REPO_ROOT, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/ensure-ready.sh failed: ${error.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
  return built;
}

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a short `patroni-router ...` command to completion (never rejects on a non-zero exit). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RouterExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the exit was seen. */
  at: number;
}

export class RouterProcess {
  /** Every stdout line parsed as JSON (a non-JSON line is kept as `{ msg, unparsed: true }`). */
  readonly lines: LogLine[] = [];
  readonly exited: Promise<RouterExit>;
  private stdout = '';
  private stderr = '';
  private partial = '';
  private exit: RouterExit | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
  ) {
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        forgetProcess(pid);
        resolve(this.exit);
      });
    });
  }

  /** `env` is added to this process's environment (e.g. the variable a `password_env` names). */
  static start(configPath: string, env: Record<string, string> = {}): RouterProcess {
    const child = spawn(process.execPath, [CLI, '--config', configPath, '--log-format', 'json'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so the harness's reaper can kill it if this test process dies.
      detached: true,
    });
    if (child.pid === undefined) throw new Error(`could not start ${CLI}`);
    child.on('error', () => undefined); // reported through 'exit'
    registerProcess(child.pid, 'patroni-router (test)', configPath);
    return new RouterProcess(child, child.pid);
  }

  private onStdout(chunk: string): void {
    this.stdout += chunk;
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line.trim() === '') continue;
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ msg: line, unparsed: true });
      }
    }
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Everything the process printed so far, stdout and stderr, as text. */
  output(): string {
    return this.stdout + this.stderr;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.exit === undefined) process.kill(this.pid, sig);
  }

  /** Waits for a log line with this message (and matching `where`) printed at or after line `from`. */
  waitForLog(msg: string, opts: { from?: number; where?: (line: LogLine) => boolean; timeoutMs?: number } = {}): Promise<LogLine> {
    const from = opts.from ?? 0;
    return waitFor(
      `the router to log "${msg}"`,
      () => {
        const found = this.lines.slice(from).find((l) => l.msg === msg && (opts.where?.(l) ?? true));
        if (found !== undefined) return found;
        if (this.exit !== undefined) throw new Error(`the router exited (${this.exit.code ?? this.exit.signal}) without it`);
        return undefined;
      },
      { timeoutMs: opts.timeoutMs ?? 20_000, intervalMs: 25, diagnostics: () => this.tail() },
    );
  }

  /** The last lines of output, for failure messages. */
  tail(count = 30): string {
    const last = this.output().split('\n').slice(-count).join('\n');
    return `router output (last ${count} lines):\n${last}`;
  }

  /** SIGTERM, then SIGKILL to the whole group after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 15_000): Promise<RouterExit> {
    if (this.exit !== undefined) return this.exit;
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace over'>((resolve) => {
      timer = setTimeout(() => resolve('grace over'), graceMs);
    });
    const first = await Promise.race([this.exited, graceOver]);
    clearTimeout(timer);
    if (first !== 'grace over') return first;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    return this.exited;
  }
}
