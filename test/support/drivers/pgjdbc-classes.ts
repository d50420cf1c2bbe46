/**
 * The Java programs beside this file (PgjdbcScenario, PgjdbcWriter) compiled against Debian's
 * pgjdbc jar (and any other Java file a test runs), once, into a cache directory named after the hash of the sources and the jar:
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

const compiled = new Map<string, Promise<string>>();

function javac(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('javac', args, { timeout: 120_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`javac ${args.join(' ')} failed: ${error.message}\n${stderr}`)) : resolve(),
    );
  });
}

const complete = (dir: string, classNames: readonly string[]): boolean => classNames.every((name) => fs.existsSync(path.join(dir, `${name}.class`)));

async function compile(files: readonly string[], classNames: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update(fs.readFileSync(file));
  hash.update(fs.realpathSync(pgjdbcJar)).update(String(fs.statSync(pgjdbcJar).size));
  const cacheDir = path.join(os.tmpdir(), 'patroni-router-pgjdbc', hash.digest('hex').slice(0, 16));
  if (complete(cacheDir, classNames)) return cacheDir;
  // Compile beside the cache and rename into place: a concurrent run sees all or nothing.
  fs.mkdirSync(path.dirname(cacheDir), { recursive: true });
  const work = fs.mkdtempSync(`${cacheDir}.tmp-`);
  try {
    await javac(['-nowarn', '-cp', pgjdbcJar, '-d', work, ...files]);
    fs.renameSync(work, cacheDir);
  } catch (error) {
    fs.rmSync(work, { recursive: true, force: true });
    // Another run finished first; its classes are the same.
    if (complete(cacheDir, classNames)) return cacheDir;
    throw error;
  }
  return cacheDir;
}

function compiledOnce(files: readonly string[], classNames: readonly string[]): Promise<string> {
  const key = files.join('\0');
  let pending = compiled.get(key);
  if (pending === undefined) {
    pending = compile(files, classNames);
    compiled.set(key, pending);
    // A failed compile is not cached: the next caller reports the same error afresh.
    pending.catch(() => compiled.delete(key));
  }
  return pending;
}

/** The directory with the driver programs' classes; compiles on first use in this process. */
export function pgjdbcClasses(): Promise<string> {
  return compiledOnce(sources, programs);
}

/** The directory with `<className>.class` compiled from one Java file elsewhere (a test's own program). */
export function compiledJavaProgram(source: string, className: string): Promise<string> {
  return compiledOnce([source], [className]);
}

/** JVM flags for a short-lived program on a small shared machine: one GC thread, no optimising compiler. */
export const shortLivedJvm = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];

/** `java` arguments to run one driver program. */
export function pgjdbcJvm(classes: string, program: PgjdbcProgram, args: string[] = []): string[] {
  return [...shortLivedJvm, '-cp', `${classes}${path.delimiter}${pgjdbcJar}`, program, ...args];
}
