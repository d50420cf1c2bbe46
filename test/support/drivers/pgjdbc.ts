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

let compiled: Promise<string> | undefined;

function javac(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('javac', args, { timeout: 120_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`javac ${args.join(' ')} failed: ${error.message}\n${stderr}`)) : resolve(),
    );
  });
}

async function compile(): Promise<string> {
  const hash = createHash('sha256').update(fs.readFileSync(source)).update(fs.realpathSync(pgjdbcJar)).update(String(fs.statSync(pgjdbcJar).size)).digest('hex').slice(0, 16);
  const cacheDir = path.join(os.tmpdir(), 'patroni-router-pgjdbc', hash);
  if (fs.existsSync(path.join(cacheDir, 'PgjdbcScenario.class'))) return cacheDir;
  // Compile beside the cache and rename into place: a concurrent run sees all or nothing.
  fs.mkdirSync(path.dirname(cacheDir), { recursive: true });
  const work = fs.mkdtempSync(`${cacheDir}.tmp-`);
  try {
    await javac(['-nowarn', '-cp', pgjdbcJar, '-d', work, source]);
    fs.renameSync(work, cacheDir);
  } catch (error) {
    fs.rmSync(work, { recursive: true, force: true });
    // Another run finished first; its classes are the same.
    if (fs.existsSync(path.join(cacheDir, 'PgjdbcScenario.class'))) return cacheDir;
    throw error;
  }
  return cacheDir;
}

/** The directory with PgjdbcScenario.class; compiles on first use in this process. */
export function pgjdbcClasses(): Promise<string> {
  compiled ??= compile();
  // A failed compile is not cached: the next cell reports the same error afresh.
  compiled.catch(() => (compiled = undefined));
  return compiled;
}

export async function pgjdbcScenario(plan: ScenarioPlan): Promise<ScenarioResult> {
  let classes: string;
  try {
    classes = await pgjdbcClasses();
  } catch (error) {
    return { driver: 'pgjdbc', steps: [{ step: 'connect', ok: false, ms: 0, error: (error as Error).message }] };
  }
  // A short-lived JVM on a small shared machine: one GC thread, no optimising compiler.
  const jvm = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', `${classes}${path.delimiter}${pgjdbcJar}`, 'PgjdbcScenario'];
  return runScenarioProgram(plan, 'java', jvm, { cwd: classes });
}
