/** A logger whose JSON lines a test can read back (the router's own pino setup, in memory). */
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/observe/logger.js';

export interface LogCapture {
  logger: Logger;
  /** Every kept line, parsed (each line is parsed once, when first asked for). */
  lines(): Array<Record<string, unknown>>;
  /** The last lines as written, for a failure message. */
  tail(n?: number): string;
  /** Every kept line as written, one a line. */
  text(): string;
}

/** `keep` bounds how many lines are kept (a long test must not grow without end); Infinity keeps all. */
export function captureLog(level = 'info', keep = 5000): LogCapture {
  const kept: string[] = [];
  /** kept[i] parsed, for the first parsed.length lines. */
  const parsed: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') kept.push(line);
      if (kept.length > keep) {
        const dropped = kept.length - keep;
        kept.splice(0, dropped);
        parsed.splice(0, Math.min(dropped, parsed.length));
      }
      done();
    },
  });
  return {
    logger: createLogger({ level, format: 'json', destination }),
    lines: () => {
      while (parsed.length < kept.length) parsed.push(JSON.parse(kept[parsed.length]!) as Record<string, unknown>);
      return parsed.slice();
    },
    tail: (n = 15) => kept.slice(-n).join('\n'),
    text: () => kept.join('\n'),
  };
}
