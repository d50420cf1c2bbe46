import fs from 'node:fs';

/** The last `lines` lines of a log file, or a note saying why there are none. */
export function logTail(file: string, lines = 20): string {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    const readFrom = Math.max(0, size - 64 * 1024);
    const fd = fs.openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(size - readFrom);
      fs.readSync(fd, buffer, 0, buffer.length, readFrom);
      text = buffer.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    return `(no log at ${file}: ${(error as Error).message})`;
  }
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all.slice(-lines).join('\n');
}

/** Log tails of several files, each under a heading. */
export function logTails(files: Record<string, string>, lines = 20): string {
  return Object.entries(files)
    .map(([name, file]) => `--- last ${lines} lines of ${name} (${file}) ---\n${logTail(file, lines)}`)
    .join('\n');
}
