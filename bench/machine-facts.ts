import { execFile } from 'node:child_process';
import os from 'node:os';
import type { MachineFacts } from './results.js';

export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryMb: Math.round(os.totalmem() / 1024 / 1024),
    kernel: os.release(),
    hostname: os.hostname(),
  };
}

function firstLine(command: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 10_000 }, (error, stdout, stderr) => {
      const text = `${stdout}${stderr}`.trim().split('\n')[0] ?? '';
      resolve(error && !text ? `unknown (${error.message.split('\n')[0]})` : text);
    });
  });
}

/** Versions of everything the bench runs, read from the binaries themselves. */
export async function versions(postgresBinDir: string): Promise<Record<string, string>> {
  const [postgres, patroni, haproxy, etcd, pgbench, pgpool] = await Promise.all([
    firstLine(`${postgresBinDir}/postgres`, ['--version']),
    firstLine('patroni', ['--version']),
    firstLine('/usr/sbin/haproxy', ['-v']),
    firstLine('etcd', ['--version']),
    firstLine('pgbench', ['--version']),
    firstLine('/usr/sbin/pgpool', ['--version']),
  ]);
  return {
    node: process.version,
    postgres: postgres.replace(/^postgres \(PostgreSQL\) /, ''),
    patroni: patroni.replace(/^patroni /, ''),
    haproxy: haproxy.replace(/^HAProxy version (\S+).*/, '$1'),
    etcd: etcd.replace(/^etcd Version: /, ''),
    pgbench: pgbench.replace(/^pgbench \(PostgreSQL\) /, ''),
    pgpool: pgpool.replace(/^pgpool-II version (\S+).*/, '$1'),
  };
}
