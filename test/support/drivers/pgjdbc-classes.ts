/**
 * The Java programs beside this file (PgjdbcScenario, PgjdbcWriter) compiled against Debian's
 * pgjdbc jar, once, into a cache directory named after the hash of their sources and the jar:
 * a test run compiles at most once however many JVMs it starts, and an edited source is never
 * stale.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { programDir } from './scenario-program.js';

export const pgjdbcJar = '/usr/share/java/postgresql.jar';
const programs = ['PgjdbcScenario', 'PgjdbcWriter'] as const;
export type PgjdbcProgram = (typeof programs)[number];
const sources = programs.map((name) => path.join(programDir, `${name}.java`));

let compiled: Promise<string> | undefined;

function javac(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('javac', args, { timeout: 120_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`javac ${args.join(' ')} failed: ${error.message}\n${stderr}`)) : resolve(),
    );
  });
}

const complete = (dir: string): boolean => programs.every((name) => fs.existsSync(path.join(dir, `${name}.class`)));

async function compile(): Promise<string> {
  const hash = createHash('sha256');
  for (const source of sources) hash.update(fs.readFileSync(source));
  hash.update(fs.realpathSync(pgjdbcJar)).update(String(fs.statSync(pgjdbcJar).size));
  const cacheDir = path.join(os.tmpdir(), 'patroni-router-pgjdbc', hash.digest('hex').slice(0, 16));
  if (complete(cacheDir)) return cacheDir;
  // Compile beside the cache and rename into place: a concurrent run sees all or nothing.
  fs.mkdirSync(path.dirname(cacheDir), { recursive: true });
  const work = fs.mkdtempSync(`${cacheDir}.tmp-`);
  try {
    await javac(['-nowarn', '-cp', pgjdbcJar, '-d', work, ...sources]);
    fs.renameSync(work, cacheDir);
  } catch (error) {
    fs.rmSync(work, { recursive: true, force: true });
    // Another run finished first; its classes are the same.
    if (complete(cacheDir)) return cacheDir;
    throw error;
  }
  return cacheDir;
}

/** The directory with the compiled classes; compiles on first use in this process. */
export function pgjdbcClasses(): Promise<string> {
  compiled ??= compile();
  // A failed compile is not cached: the next caller reports the same error afresh.
  compiled.catch(() => (compiled = undefined));
  return compiled;
}

/** `java` arguments to run one program: a JVM on a small shared machine, one GC thread, no optimising compiler. */
export function pgjdbcJvm(classes: string, program: PgjdbcProgram, args: string[] = []): string[] {
  return ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', `${classes}${path.delimiter}${pgjdbcJar}`, program, ...args];
}
