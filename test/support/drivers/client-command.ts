/**
 * Runs client programs (psql, pgbench) for one scenario and can kill the ones still running
 * when a step hangs. Each runs in its own session (setsid): with no controlling terminal,
 * libpq can never stop to prompt for a password.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface CommandOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunningCommand {
  child: ChildProcess;
  /** Resolves when the program has exited and its output is closed. */
  done: Promise<CommandOutcome>;
  /** Called with each piece of stderr as it arrives. */
  onStderr(listener: (text: string) => void): void;
}

export class ClientCommands {
  private readonly running = new Set<ChildProcess>();

  start(command: string, args: string[], opts: { env: NodeJS.ProcessEnv; stdin?: string }): RunningCommand {
    const child = spawn(command, args, { env: opts.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.running.add(child);
    const stdout: Buffer[] = [];
    let stderr = '';
    const listeners: Array<(text: string) => void> = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderr += text;
      for (const l of listeners) l(text);
    });
    // A program that exits before reading all of stdin closes the pipe; that is its business.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.stdin ?? '');
    const done = new Promise<CommandOutcome>((resolve) => {
      child.once('error', (error) => {
        this.running.delete(child);
        resolve({ code: null, signal: null, stdout: Buffer.alloc(0), stderr: `could not run ${command}: ${error.message}` });
      });
      child.once('close', (code, signal) => {
        this.running.delete(child);
        resolve({ code, signal, stdout: Buffer.concat(stdout), stderr });
      });
    });
    return { child, done, onStderr: (listener) => listeners.push(listener) };
  }

  run(command: string, args: string[], opts: { env: NodeJS.ProcessEnv; stdin?: string }): Promise<CommandOutcome> {
    return this.start(command, args, opts).done;
  }

  /** SIGKILL to every program still running (a hung step). */
  killAll(): void {
    for (const child of this.running) {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
}
