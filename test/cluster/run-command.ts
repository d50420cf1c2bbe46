import { execFile } from 'node:child_process';
import type { OsUser } from './os-user.js';

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  user?: OsUser;
  timeoutMs?: number;
}

/** Runs a short command to completion; rejects with its stderr/stdout when it fails. */
export function runCommand(command: string, args: string[], opts: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        cwd: opts.cwd,
        env: opts.env,
        timeout: opts.timeoutMs ?? 60_000,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
      },
      (error, stdout, stderr) => {
        if (error) {
          const output = `${stderr}${stdout}`.trim().split('\n').slice(-20).join('\n');
          reject(new Error(`${command} ${args.join(' ')} failed (${error.message.split('\n')[0]}):\n${output}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}
