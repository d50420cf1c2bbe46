/** A logger whose JSON lines a test can read back (the router's own pino setup, in memory). */
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/observe/logger.js';

export interface LogCapture {
  logger: Logger;
  /** Every line, parsed. */
  lines(): Array<Record<string, unknown>>;
  /** The last lines as written, for a failure message. */
  tail(n?: number): string;
}

/** `keep` bounds how many lines are kept (a long test must not grow without end). */
export function captureLog(level = 'info', keep = 5000): LogCapture {
  const kept: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') kept.push(line);
      if (kept.length > keep) kept.splice(0, kept.length - keep);
      done();
    },
  });
  return {
    logger: createLogger({ level, format: 'json', destination }),
    lines: () => kept.map((l) => JSON.parse(l) as Record<string, unknown>),
    tail: (n = 15) => kept.slice(-n).join('\n'),
  };
}
