/**
 * Statements per second of the statement classifier, cold (every call parses) and warm (the
 * StatementClassifier's cache answers). Not an assertion: it prints a table.
 * `npm run bench:sql` (builds, then `node dist/bench/sql-classify.js [seconds-per-case]`).
 */
import { loadSqlParser, parseSql } from '../src/sql/sql-parser.js';
import { analyseText, classifyStatement, verdictOf } from '../src/sql/classify.js';
import { StatementClassifier } from '../src/sql/classifier-cache.js';
import { functionCatalogFromRows, type FunctionCatalog } from '../src/sql/function-catalog.js';
import { ORM_STATEMENT, SHORT_STATEMENTS } from './sql-statements.js';

const secondsPerCase = Number(process.argv[2] ?? '1.5');

// The functions the statements call; the lookup cost does not depend on the catalog's size.
const catalog: FunctionCatalog = functionCatalogFromRows(['count', 'lower', 'nextval', 'now'].map((name) => ({ schema_name: 'pg_catalog', function_name: name, volatile: false })));

interface Measure {
  name: string;
  perSecond: number;
  microseconds: number;
}

/** Runs `step` for `secondsPerCase` (after a short warm-up) and counts the calls. */
function measure(name: string, step: (i: number) => void): Measure {
  for (let i = 0; i < 200; i++) step(i);
  let calls = 0;
  const started = performance.now();
  const until = started + secondsPerCase * 1000;
  while (performance.now() < until) {
    for (let j = 0; j < 100; j++) step(calls++);
  }
  const elapsed = (performance.now() - started) / 1000;
  return { name, perSecond: calls / elapsed, microseconds: (elapsed / calls) * 1e6 };
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);

function row(m: Measure): string {
  return `| ${m.name.padEnd(52)} | ${Math.round(m.perSecond).toLocaleString('en-US').padStart(12)} | ${m.microseconds.toFixed(2).padStart(9)} |`;
}

async function main(): Promise<void> {
  const loadStarted = performance.now();
  await loadSqlParser();
  const loadMs = performance.now() - loadStarted;
  const rssLoaded = process.memoryUsage().rss;
  const shortSelect = SHORT_STATEMENTS[0] ?? 'SELECT 1';
  const rssBefore = process.memoryUsage().rss;

  const results: Measure[] = [
    measure('libpg-query parse only, short SELECT', () => parseSql(shortSelect)),
    measure(`libpg-query parse only, ORM query (${ORM_STATEMENT.length} B)`, () => parseSql(ORM_STATEMENT)),
    measure('cold classifyStatement, short SELECT', () => classifyStatement(shortSelect, catalog)),
    measure(`cold classifyStatement, ${SHORT_STATEMENTS.length} short statements in turn`, (i) => classifyStatement(SHORT_STATEMENTS[i % SHORT_STATEMENTS.length] ?? '', catalog)),
    measure(`cold classifyStatement, ORM query (${ORM_STATEMENT.length} B)`, () => classifyStatement(ORM_STATEMENT, catalog)),
  ];
  const rssAfterCold = process.memoryUsage().rss;

  // Warm cases decode each text from bytes, as a router does from the wire: a string used
  // before keeps its hash, so reusing one object would measure a lookup no session makes.
  const classifier = new StatementClassifier(catalog);
  const shortBytes = Buffer.from(shortSelect);
  const mixBytes = SHORT_STATEMENTS.map((text) => Buffer.from(text));
  const ormBytes = Buffer.from(ORM_STATEMENT);
  results.push(
    measure('decode only (Buffer to string), ORM query', () => ormBytes.toString('utf8')),
    measure('warm StatementClassifier, short SELECT', () => classifier.classify(shortBytes.toString('utf8'))),
    measure(`warm StatementClassifier, ${SHORT_STATEMENTS.length} short statements in turn`, (i) =>
      classifier.classify((mixBytes[i % mixBytes.length] ?? shortBytes).toString('utf8')),
    ),
    measure(`warm StatementClassifier, ORM query (${ORM_STATEMENT.length} B)`, () => classifier.classify(ormBytes.toString('utf8'))),
    // pgbench -S's statement: a new literal every time, so the text misses and its shape hits.
    measure('warm StatementClassifier, point SELECT, literal varies', (i) => classifier.classify(`SELECT abalance FROM pgbench_accounts WHERE aid = ${(i * 7919) % 1_000_000};`)),
    // The bench's mixed workload: every tenth statement an UPDATE with new literals, which its first keyword decides.
    measure('warm StatementClassifier, 9 point SELECTs to 1 UPDATE, literals vary', (i) =>
      classifier.classify(
        i % 10 === 9
          ? `UPDATE pgbench_accounts SET abalance = ${(i % 10_001) - 5000} WHERE aid = ${(i * 7919) % 1_000_000};`
          : `SELECT abalance FROM pgbench_accounts WHERE aid = ${(i * 7919) % 1_000_000};`,
      ),
    ),
  );
  // A catalog refresh: every hit re-judges against the new catalog once, without parsing.
  let refreshes = 0;
  results.push(
    measure('warm, catalog replaced every 1000 calls, ORM query', (i) => {
      if (i % 1000 === 0) {
        classifier.useCatalog(functionCatalogFromRows([...catalog.byName.keys()].map((name) => ({ schema_name: 'pg_catalog', function_name: name, volatile: false }))));
        refreshes++;
      }
      classifier.classify(ormBytes.toString('utf8'));
    }),
  );

  // One huge write: the first-keyword shortcut against a parse.
  const insert = `INSERT INTO big (id, note) VALUES ${Array.from({ length: 20_000 }, (_, i) => `(${i}, 'row ${i}')`).join(', ')}`;
  const shortcutStarted = performance.now();
  classifyStatement(insert, catalog);
  const shortcutMs = performance.now() - shortcutStarted;
  const parseStarted = performance.now();
  verdictOf(analyseText(insert, { firstKeyword: false }), catalog);
  const parseMs = performance.now() - parseStarted;
  const rssAfterHuge = process.memoryUsage().rss;

  const counters = classifier.counters();
  const lines = [
    `Node ${process.version}, libpg-query WASM loaded in ${loadMs.toFixed(1)} ms, ${secondsPerCase} s per case`,
    '',
    `| ${'case'.padEnd(52)} | ${'statements/s'.padStart(12)} | ${'µs each'.padStart(9)} |`,
    `|${'-'.repeat(54)}|${'-'.repeat(14)}:|${'-'.repeat(10)}:|`,
    ...results.map(row),
    '',
    `${(insert.length / 1024).toFixed(0)} KiB single INSERT: first-keyword shortcut ${shortcutMs.toFixed(2)} ms, full parse ${parseMs.toFixed(1)} ms`,
    `cache: ${counters.hits.toLocaleString('en-US')} hits, ${counters.misses} misses, ${counters.parses} parses (${refreshes} catalog refreshes, no re-parse)`,
    `RSS: ${mib(rssLoaded)} MiB with the parser loaded, ${mib(rssBefore)} before the cold runs, ${mib(rssAfterCold)} after, ${mib(rssAfterHuge)} after parsing the INSERT`,
  ];
  console.log(lines.join('\n'));
}

await main();
