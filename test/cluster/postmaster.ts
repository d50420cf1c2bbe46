import fs from 'node:fs';
import { childrenOf, commandLine, isAlive, signal, sleepSync } from './proc-table.js';

/**
 * The running postmaster of a data directory, from the first line of postmaster.pid, checked
 * against /proc so a stale file naming a reused pid is ignored.
 */
export function postmasterPid(dataDir: string): number | undefined {
  let firstLine: string | undefined;
  try {
    firstLine = fs.readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0];
  } catch {
    return undefined;
  }
  const pid = Number(firstLine);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  return commandLine(pid).includes(dataDir) ? pid : undefined;
}

/**
 * SIGKILL of the postmaster and all its children at once, as if the host died. Children first
 * gathered, because once the postmaster is gone they are re-parented and can't be found.
 */
export function killPostgresHard(dataDir: string): number | undefined {
  const pid = postmasterPid(dataDir);
  if (pid === undefined) return undefined;
  const children = childrenOf(pid);
  signal(pid, 'SIGKILL');
  for (const child of children) signal(child, 'SIGKILL');
  return pid;
}

/**
 * Immediate shutdown (SIGQUIT: the postmaster stops its children and frees shared memory),
 * escalating to SIGKILL after `graceMs`. Synchronous so exit handlers can use it.
 */
export function stopPostgresNow(dataDir: string, graceMs = 3000): void {
  const pid = postmasterPid(dataDir);
  if (pid === undefined) return;
  signal(pid, 'SIGQUIT');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) sleepSync(25);
  if (isAlive(pid)) killPostgresHard(dataDir);
}

/** Async variant of stopPostgresNow that does not block the event loop. */
export async function stopPostgres(dataDir: string, graceMs = 5000): Promise<void> {
  const pid = postmasterPid(dataDir);
  if (pid === undefined) return;
  signal(pid, 'SIGQUIT');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (isAlive(pid)) killPostgresHard(dataDir);
}
