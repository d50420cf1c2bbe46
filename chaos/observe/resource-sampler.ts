/** The router's resident memory and open file descriptors, read from /proc every second for the whole run. */
import { readProcessUsage } from '../../bench/process-usage.js';
import { countOpenFds } from './proc-sockets.js';

export interface ResourceSample {
  at: number;
  rssKb: number;
  fds: number;
}

export function readResources(pid: number): ResourceSample {
  return { at: Date.now(), rssKb: readProcessUsage(pid).rssKb, fds: countOpenFds(pid) };
}

export class ResourceSampler {
  readonly samples: ResourceSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 1_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      try {
        this.samples.push(readResources(this.pid));
      } catch {
        // The process is gone; the exit watcher reports that.
      }
    }, this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  peak(): { rssKb: number; fds: number } {
    return { rssKb: Math.max(0, ...this.samples.map((s) => s.rssKb)), fds: Math.max(0, ...this.samples.map((s) => s.fds)) };
  }
}
