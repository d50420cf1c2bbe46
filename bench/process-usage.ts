import fs from 'node:fs';
import { processTree } from './process-tree.js';

/** Resident memory and CPU time of a process (or a process tree), read from Linux /proc. */
export interface ProcessUsage {
  rssKb: number;
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  /** How many processes the reading covers. */
  processes: number;
}

/** Kernel clock ticks per second for /proc/<pid>/stat times; 100 on every Linux we target. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime (fields 14 and 15 of /proc/<pid>/stat) in ticks. */
export function parseCpuTicks(stat: string): number {
  const { user, system } = parseCpuTicksSplit(stat);
  return user + system;
}

/** utime and stime (fields 14 and 15 of /proc/<pid>/stat) in ticks, apart. */
export function parseCpuTicksSplit(stat: string): { user: number; system: number } {
  // The command name (field 2) is in parentheses and may contain spaces or ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat line: ${stat.slice(0, 120)}`);
  return { user: utime, system: stime };
}

/** VmRSS from /proc/<pid>/status, in kB. */
export function parseVmRssKb(status: string): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match?.[1]) throw new Error('no VmRSS line in /proc status');
  return Number(match[1]);
}

export function readProcessUsage(pid: number): ProcessUsage {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const { user, system } = parseCpuTicksSplit(stat);
  return {
    rssKb: parseVmRssKb(status),
    cpuSeconds: (user + system) / CLOCK_TICKS_PER_SECOND,
    userSeconds: user / CLOCK_TICKS_PER_SECOND,
    systemSeconds: system / CLOCK_TICKS_PER_SECOND,
    processes: 1,
  };
}

/**
 * `pid` and its descendants together (a proxy with worker processes). RSS is summed, so pages
 * the workers share are counted once per process: an upper bound. A process that ended between
 * readings drops out, so take CPU differences over a stable tree.
 */
export function readTreeUsage(pid: number): ProcessUsage {
  const total: ProcessUsage = { rssKb: 0, cpuSeconds: 0, userSeconds: 0, systemSeconds: 0, processes: 0 };
  for (const member of processTree(pid)) {
    let usage: ProcessUsage;
    try {
      usage = readProcessUsage(member);
    } catch (error) {
      if (member === pid) throw error;
      continue; // a worker that ended meanwhile
    }
    total.rssKb += usage.rssKb;
    total.cpuSeconds += usage.cpuSeconds;
    total.userSeconds += usage.userSeconds;
    total.systemSeconds += usage.systemSeconds;
    total.processes += 1;
  }
  return total;
}

/** What a proxy (all its processes) used while something ran. */
export interface UsageDuring {
  peakRssKb: number;
  cpuSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  processes: number;
}

/** Samples a proxy's process tree while something runs: peak RSS, and the CPU it used meanwhile. */
export class UsageSampler {
  private peakRssKb = 0;
  private readonly start: ProcessUsage;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 250,
  ) {
    const first = readTreeUsage(pid);
    this.start = first;
    this.peakRssKb = first.rssKb;
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): ProcessUsage | undefined {
    try {
      const usage = readTreeUsage(this.pid);
      this.peakRssKb = Math.max(this.peakRssKb, usage.rssKb);
      return usage;
    } catch {
      return undefined; // the process ended; the caller will notice elsewhere
    }
  }

  stop(): UsageDuring {
    clearInterval(this.timer);
    const last = this.sample();
    return {
      peakRssKb: this.peakRssKb,
      cpuSeconds: last ? last.cpuSeconds - this.start.cpuSeconds : Number.NaN,
      userSeconds: last ? last.userSeconds - this.start.userSeconds : Number.NaN,
      systemSeconds: last ? last.systemSeconds - this.start.systemSeconds : Number.NaN,
      processes: last?.processes ?? this.start.processes,
    };
  }
}
