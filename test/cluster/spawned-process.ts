import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { forgetProcess, registerProcess } from './process-registry.js';
import { isAlive, signal } from './proc-table.js';
import type { OsUser } from './os-user.js';

export interface SpawnSpec {
  /** Short label for errors and the registry, e.g. 'patroni pg0'. */
  what: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  user?: OsUser;
  /** Substring of the cmdline that identifies this process in /proc (pid reuse guard). */
  matches: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A long-running child in its own process group (detached), logging to a file, registered for
 * cleanup until it has exited.
 */
export class SpawnedProcess {
  readonly exited: Promise<ExitStatus>;
  private exitStatus: ExitStatus | undefined;

  private constructor(
    readonly spec: SpawnSpec,
    private readonly child: ChildProcess,
    readonly pid: number,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, sig) => {
        this.exitStatus = { code, signal: sig };
        forgetProcess(pid);
        resolve(this.exitStatus);
      });
    });
  }

  static start(spec: SpawnSpec): SpawnedProcess {
    const log = fs.openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ['ignore', log, log],
        ...(spec.user ? { uid: spec.user.uid, gid: spec.user.gid } : {}),
      });
    } finally {
      fs.closeSync(log);
    }
    if (child.pid === undefined) {
      throw new Error(`could not start ${spec.what} (${spec.command}); is it installed? see scripts/install-deps.sh`);
    }
    child.on('error', () => {
      // reported through 'exit' and the log; an unhandled 'error' would crash the test process
    });
    child.unref();
    registerProcess(child.pid, spec.what, spec.matches);
    return new SpawnedProcess(spec, child, child.pid);
  }

  get running(): boolean {
    return this.exitStatus === undefined && isAlive(this.pid);
  }

  get exitDescription(): string | undefined {
    const s = this.exitStatus;
    return s && (s.signal ? `killed by ${s.signal}` : `exited with code ${s.code}`);
  }

  /** Signals the whole process group. */
  signalGroup(sig: NodeJS.Signals): void {
    if (this.exitStatus) return;
    signal(-this.pid, sig);
  }

  /** Signals only the process itself (e.g. SIGHUP to reload). */
  signalProcess(sig: NodeJS.Signals): void {
    if (this.exitStatus) return;
    signal(this.pid, sig);
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 20_000): Promise<ExitStatus> {
    if (this.exitStatus) return this.exitStatus;
    this.signalGroup('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace over'>((resolve) => {
      timer = setTimeout(() => resolve('grace over'), graceMs);
    });
    const first = await Promise.race([this.waitForExit(), graceOver]);
    clearTimeout(timer);
    if (first === 'grace over') return this.kill();
    return first;
  }

  /** SIGKILL to the group; resolves once it has exited. */
  async kill(): Promise<ExitStatus> {
    this.signalGroup('SIGKILL');
    return this.waitForExit();
  }

  /**
   * The child is unref'd (it must not keep a test process alive), so while someone waits for
   * its exit a timer keeps the event loop from draining under the pending promise.
   */
  async waitForExit(): Promise<ExitStatus> {
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      return await this.exited;
    } finally {
      clearInterval(keepAlive);
    }
  }
}
