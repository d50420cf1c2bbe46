import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/**
 * Every place a secret can sit in what we log. pino censors these paths before a line is
 * written, whatever the level: config objects, etcd access, admin tokens, TLS passphrases.
 */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'etcd.password',
  'config.clusters[*].etcd.password',
  'token',
  '*.token',
  'admin.token',
  'config.admin.token',
  'passphrase',
  '*.passphrase',
  'tls.passphrase',
  'config.tls.passphrase',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
];

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** A terminal-friendly line: time, level, message, then the rest as key=value. */
export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, pid: _pid, hostname: _hostname, ...rest } = record;
  const when = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${when} ${(LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${fields ? `  ${fields}` : ''}\n`;
}

class PrettyStream extends Writable {
  constructor(private readonly out: NodeJS.WritableStream) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') this.out.write(prettyLine(line));
    done();
  }
}

export interface LoggerOptions {
  level: string;
  /** 'json' (default when not a terminal), 'pretty' (default on a terminal). */
  format?: 'json' | 'pretty';
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const out = options.destination ?? process.stdout;
  const isTerminal = (out as NodeJS.WriteStream).isTTY === true;
  const format = options.format ?? (isTerminal ? 'pretty' : 'json');
  const stream = format === 'pretty' ? new PrettyStream(out) : out;
  return pino(
    {
      level: options.level,
      base: { name: 'patroni-router' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    stream as pino.DestinationStream,
  );
}
