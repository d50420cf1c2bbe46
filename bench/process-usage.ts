import fs from 'node:fs';

/** Resident memory and CPU time of a process, read from Linux /proc. */
export interface ProcessUsage {
  rssKb: number;
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
}

/** Kernel clock ticks per second for /proc/<pid>/stat times; 100 on every Linux we target. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime (fields 14 and 15 of /proc/<pid>/stat) in ticks. */
export function parseCpuTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may contain spaces or ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat line: ${stat.slice(0, 120)}`);
  return utime + stime;
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
  return { rssKb: parseVmRssKb(status), cpuSeconds: parseCpuTicks(stat) / CLOCK_TICKS_PER_SECOND };
}

/** Samples a process's RSS while something runs: the peak and the CPU seconds it used meanwhile. */
export class UsageSampler {
  private peakRssKb = 0;
  private readonly startCpu: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number, intervalMs = 250) {
    const first = readProcessUsage(pid);
    this.startCpu = first.cpuSeconds;
    this.peakRssKb = first.rssKb;
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): ProcessUsage | undefined {
    try {
      const usage = readProcessUsage(this.pid);
      this.peakRssKb = Math.max(this.peakRssKb, usage.rssKb);
      return usage;
    } catch {
      return undefined; // the process ended; the caller will notice elsewhere
    }
  }

  stop(): { peakRssKb: number; cpuSeconds: number } {
    clearInterval(this.timer);
    const last = this.sample();
    return { peakRssKb: this.peakRssKb, cpuSeconds: last ? last.cpuSeconds - this.startCpu : Number.NaN };
  }
}
