import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commandLine, isAlive, signal } from './proc-table.js';
import { stopPostgresNow } from './postmaster.js';

/**
 * Everything this process started (process groups, PostgreSQL data directories, temp dirs),
 * kept in memory for exit/signal handlers and mirrored to a file so that vitest's global
 * teardown can clean up after a worker that died without running its handlers.
 */
interface RegisteredProcess {
  /** Leader of its own process group (spawned detached). */
  pid: number;
  what: string;
  /** Substring its /proc cmdline must contain, so a reused pid is never killed. */
  matches: string;
}

interface RegistryRecord {
  ownerPid: number;
  processes: RegisteredProcess[];
  /** Data directories whose postmaster (from postmaster.pid) must be stopped. */
  dataDirs: string[];
  /** Temp directories to remove. */
  dirs: string[];
}

export const registryDir = path.join(os.tmpdir(), 'patroni-router-registry');

const record: RegistryRecord = { ownerPid: process.pid, processes: [], dataDirs: [], dirs: [] };
let handlersInstalled = false;

function recordFile(ownerPid: number): string {
  return path.join(registryDir, `${ownerPid}.json`);
}

function persist(): void {
  const file = recordFile(process.pid);
  const empty = record.processes.length + record.dataDirs.length + record.dirs.length === 0;
  try {
    if (empty) {
      fs.rmSync(file, { force: true });
      fs.rmdirSync(registryDir);
    } else {
      fs.mkdirSync(registryDir, { recursive: true });
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(record));
      fs.renameSync(`${file}.tmp`, file);
    }
  } catch {
    // rmdir fails while other processes have records; a failed write only weakens the safety net.
  }
}

function cleanUp(rec: RegistryRecord): void {
  // Patroni first, or it would restart the postgres we are about to stop.
  for (const p of rec.processes) {
    if (isAlive(p.pid) && commandLine(p.pid).includes(p.matches)) {
      signal(-p.pid, 'SIGKILL');
      signal(p.pid, 'SIGKILL');
    }
  }
  for (const dataDir of rec.dataDirs) stopPostgresNow(dataDir);
  for (const dir of rec.dirs) fs.rmSync(dir, { recursive: true, force: true });
}

function cleanUpOwn(): void {
  cleanUp(record);
  record.processes = [];
  record.dataDirs = [];
  record.dirs = [];
  persist();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanUpOwn);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      // Only act alone: when the program has its own handler (the demo), it tears down itself
      // and the 'exit' handler still catches whatever it missed.
      if (process.listenerCount(sig) > 1) return;
      cleanUpOwn();
      process.exit(128 + (os.constants.signals[sig] ?? 0));
    };
    process.on(sig, onSignal);
  }
}

function update(change: () => void): void {
  installHandlers();
  change();
  persist();
}

export function registerProcess(pid: number, what: string, matches: string): void {
  update(() => record.processes.push({ pid, what, matches }));
}
export function forgetProcess(pid: number): void {
  update(() => (record.processes = record.processes.filter((p) => p.pid !== pid)));
}
export function registerDataDir(dataDir: string): void {
  update(() => record.dataDirs.push(dataDir));
}
export function forgetDataDir(dataDir: string): void {
  update(() => (record.dataDirs = record.dataDirs.filter((d) => d !== dataDir)));
}
export function registerDir(dir: string): void {
  update(() => record.dirs.push(dir));
}
export function forgetDir(dir: string): void {
  update(() => (record.dirs = record.dirs.filter((d) => d !== dir)));
}

/**
 * Cleans up after processes that registered clusters and died without tearing them down (a
 * crashed or killed vitest worker). Records of live processes are left alone, since other
 * test runs may share this machine; `includeOwnPid` also reaps this process's own record
 * (vitest's thread pool runs workers inside the main process). Returns what was reaped.
 */
export function reapAbandoned(opts: { includeOwnPid?: boolean } = {}): string[] {
  const reaped: string[] = [];
  let files: string[];
  try {
    files = fs.readdirSync(registryDir).filter((f) => f.endsWith('.json'));
  } catch {
    return reaped;
  }
  for (const file of files) {
    const ownerPid = Number(file.slice(0, -'.json'.length));
    const own = ownerPid === process.pid;
    if (own ? !opts.includeOwnPid : isAlive(ownerPid)) continue;
    const full = path.join(registryDir, file);
    try {
      const rec = JSON.parse(fs.readFileSync(full, 'utf8')) as RegistryRecord;
      cleanUp(rec);
      reaped.push(...rec.processes.map((p) => `${p.what} (pid ${p.pid})`), ...rec.dirs);
      fs.rmSync(full, { force: true });
    } catch (error) {
      reaped.push(`(could not reap ${full}: ${(error as Error).message})`);
    }
  }
  if (opts.includeOwnPid) cleanUpOwn();
  try {
    fs.rmdirSync(registryDir);
  } catch {
    // not empty: other live processes still have records
  }
  return reaped;
}
