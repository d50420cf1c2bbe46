/**
 * The pgjdbc scenario: PgjdbcScenario.java against Debian's pgjdbc jar. The class is compiled
 * once into a cache directory named after the hash of its source (and the jar), so a test run
 * compiles at most once however many cells it has, and an edited source is never stale.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ScenarioPlan } from './scenario-plan.js';
import { programDir, runScenarioProgram } from './scenario-program.js';
import type { ScenarioResult } from './scenario-types.js';

export const pgjdbcJar = '/usr/share/java/postgresql.jar';
const source = path.join(programDir, 'PgjdbcScenario.java');

const compiled = new Map<string, Promise<string>>();

function javac(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('javac', args, { timeout: 120_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`javac ${args.join(' ')} failed: ${error.message}\n${stderr}`)) : resolve(),
    );
  });
}

async function compile(source: string, className: string): Promise<string> {
  const hash = createHash('sha256').update(fs.readFileSync(source)).update(fs.realpathSync(pgjdbcJar)).update(String(fs.statSync(pgjdbcJar).size)).digest('hex').slice(0, 16);
  const cacheDir = path.join(os.tmpdir(), 'patroni-router-pgjdbc', `${className}-${hash}`);
  if (fs.existsSync(path.join(cacheDir, `${className}.class`))) return cacheDir;
  // Compile beside the cache and rename into place: a concurrent run sees all or nothing.
  fs.mkdirSync(path.dirname(cacheDir), { recursive: true });
  const work = fs.mkdtempSync(`${cacheDir}.tmp-`);
  try {
    await javac(['-nowarn', '-cp', pgjdbcJar, '-d', work, source]);
    fs.renameSync(work, cacheDir);
  } catch (error) {
    fs.rmSync(work, { recursive: true, force: true });
    // Another run finished first; its classes are the same.
    if (fs.existsSync(path.join(cacheDir, `${className}.class`))) return cacheDir;
    throw error;
  }
  return cacheDir;
}

/** The directory with `<className>.class` compiled from `source` against the pgjdbc jar; compiles on first use in this process. */
export function compiledJavaProgram(source: string, className: string): Promise<string> {
  let pending = compiled.get(source);
  if (pending === undefined) {
    pending = compile(source, className);
    compiled.set(source, pending);
    // A failed compile is not cached: the next cell reports the same error afresh.
    pending.catch(() => compiled.delete(source));
  }
  return pending;
}

/** The directory with PgjdbcScenario.class. */
export function pgjdbcClasses(): Promise<string> {
  return compiledJavaProgram(source, 'PgjdbcScenario');
}

/** JVM flags for a short-lived program on a small shared machine: one GC thread, no optimising compiler. */
export const shortLivedJvm = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];

export async function pgjdbcScenario(plan: ScenarioPlan): Promise<ScenarioResult> {
  let classes: string;
  try {
    classes = await pgjdbcClasses();
  } catch (error) {
    return { driver: 'pgjdbc', steps: [{ step: 'connect', ok: false, ms: 0, error: (error as Error).message }] };
  }
  const jvm = [...shortLivedJvm, '-cp', `${classes}${path.delimiter}${pgjdbcJar}`, 'PgjdbcScenario'];
  return runScenarioProgram(plan, 'java', jvm, { cwd: classes });
}
