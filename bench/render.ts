/**
 * Re-renders a saved results file, e.g. after the report's layout changed:
 * `node dist/bench/render.js bench/results/<date>.json` writes <date>.md beside it, and
 * latest.md too when it is a full run of every part.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BENCH_SECTIONS, isReferenceRun, type BenchResults } from './results.js';
import { renderMarkdown } from './results-table.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist/bench/render.js bench/results/<date>.json\n');
  process.exit(2);
}
try {
  const results = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResults;
  const markdown = renderMarkdown(results);
  fs.writeFileSync(file.replace(/\.json$/, '') + '.md', markdown);
  if (isReferenceRun(results, BENCH_SECTIONS)) fs.writeFileSync(path.join(path.dirname(file), 'latest.md'), markdown);
  process.stdout.write(markdown);
} catch (error) {
  process.stderr.write(`could not render ${file}: ${(error as Error).message}\n`);
  process.exit(1);
}
