/**
 * StatementClassifier: classifyStatement behind a bounded LRU keyed by statement text.
 *
 * Parsing costs ~10 µs for a short statement and ~150 µs for a 1.5 KB ORM query; an
 * application sends the same few hundred texts over and over, so verdicts are cached by
 * text. What is cached is the catalog-free analysis, plus the verdict last made from it: a
 * catalog refresh re-judges an entry on its next hit without parsing it again. Texts longer
 * than `maxCachedLength` are classified every time and never cached (they rarely repeat and
 * would crowd out the many short ones), and the total length of cached texts is bounded too.
 *
 * Texts that differ only in their literal values share an entry by their shape
 * (statement-shape.ts) when their verdict carries no session effect: a SET, PREPARE or pin
 * carries its own text and stays keyed by it.
 *
 * A write that its first keyword sends to the primary (first-keyword.ts) never reaches the
 * cache: that look is cheaper than a lookup, and writes carrying their values as literals
 * would otherwise fill the cache with texts that never repeat, pushing out the reads.
 *
 * One classifier serves every session of a router: the counters are what metrics read.
 */
import { analyseText, DEFAULT_MAX_PARSED_LENGTH, verdictOf, type TextAnalysis } from './classify.js';
import type { PreparedStatementLookup } from './batch-verdict.js';
import type { FunctionCatalog } from './function-catalog.js';
import { primaryByFirstKeyword } from './first-keyword.js';
import { LITERAL_SENSITIVE, statementShape } from './statement-shape.js';
import type { StatementVerdict } from './statement-verdict.js';

export interface StatementClassifierOptions {
  /** Texts kept; the least recently used goes first. Default 4096. */
  readonly capacity?: number;
  /** Longer texts (UTF-16 code units) are not cached. Default 16 KiB. */
  readonly maxCachedLength?: number;
  /** Bound on the summed length of cached texts. Default 16 MiB. */
  readonly maxCachedTotalLength?: number;
  /** Longer texts go to the primary unparsed. Default 256 KiB (DEFAULT_MAX_PARSED_LENGTH says why). */
  readonly maxParsedLength?: number;
  /** Clock for parse time, in milliseconds. Default performance.now. */
  readonly now?: () => number;
}

export interface ClassifierCounters {
  readonly hits: number;
  readonly misses: number;
  /** Entries dropped to stay within capacity or total length. */
  readonly evictions: number;
  /** Texts classified without caching because they were longer than maxCachedLength. */
  readonly uncached: number;
  /** Texts sent to the primary by their first keyword, without a cache lookup. */
  readonly byFirstKeyword: number;
  readonly entries: number;
  readonly cachedLength: number;
  /**
   * Texts analysed (misses and uncached texts: parsed, or decided unparsed) and the time spent
   * on them, reading the tree included.
   */
  readonly parses: number;
  readonly parseSeconds: number;
}

interface CacheEntry {
  readonly analysis: TextAnalysis;
  /** False when the verdict depends on the session's prepared statements (EXECUTE). */
  readonly memoisable: boolean;
  verdict?: StatementVerdict;
  /**
   * The catalog generation the verdict was made in. A number, not the catalog: an entry not hit
   * since a refresh must not keep a whole old catalog alive (a few thousand functions each).
   */
  judgedIn?: number;
  /** The classifier's move count when this entry last went to the Map's end (lookup says why). */
  movedAt: number;
}

export class StatementClassifier {
  /** By exact text, and (for verdicts without effects) by shape: one LRU, the keys told apart by a prefix. */
  private readonly entries = new Map<string, CacheEntry>();
  private readonly capacity: number;
  private readonly maxCachedLength: number;
  private readonly maxCachedTotalLength: number;
  private readonly maxParsedLength: number;
  private readonly now: () => number;
  private functionCatalog: FunctionCatalog;
  private catalogGeneration = 0;
  private cachedLength = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private uncached = 0;
  private byFirstKeyword = 0;
  /** Entries put at the Map's end so far: by remember(), and by lookups that refreshed one. */
  private moves = 0;
  private readonly refreshDistance: number;
  private parses = 0;
  private parseMilliseconds = 0;

  constructor(catalog: FunctionCatalog, options: StatementClassifierOptions = {}) {
    this.functionCatalog = catalog;
    this.capacity = Math.max(0, options.capacity ?? 4096);
    this.refreshDistance = Math.max(1, Math.floor(this.capacity / 4));
    this.maxCachedLength = options.maxCachedLength ?? 16 * 1024;
    this.maxCachedTotalLength = options.maxCachedTotalLength ?? 16 * 1024 * 1024;
    this.maxParsedLength = options.maxParsedLength ?? DEFAULT_MAX_PARSED_LENGTH;
    this.now = options.now ?? (() => performance.now());
  }

  get catalog(): FunctionCatalog {
    return this.functionCatalog;
  }

  /** A refreshed catalog: cached texts are re-judged against it on their next use, not re-parsed. */
  useCatalog(catalog: FunctionCatalog): void {
    if (catalog === this.functionCatalog) return;
    this.functionCatalog = catalog;
    this.catalogGeneration++;
  }

  /** `prepared`: the session's prepared statements, for EXECUTE. */
  classify(text: string, prepared?: PreparedStatementLookup): StatementVerdict {
    // A NUL is analyseText's to judge (unparsed, effects unknown), not the keyword's.
    const shortcut = text.includes('\0') ? undefined : primaryByFirstKeyword(text);
    if (shortcut !== undefined) {
      this.byFirstKeyword++;
      return shortcut;
    }
    const textKey = `t:${text}`;
    const cached = this.lookup(textKey);
    if (cached !== undefined) return this.judge(cached, prepared);
    if (text.length > this.maxCachedLength) {
      this.uncached++;
      return verdictOf(this.analyse(text), this.functionCatalog, prepared);
    }
    const shape = LITERAL_SENSITIVE.test(text) ? undefined : statementShape(text);
    const shapeKey = shape === undefined ? undefined : `s:${shape}`;
    const byShape = shapeKey === undefined ? undefined : this.lookup(shapeKey);
    if (byShape !== undefined) return this.judge(byShape, prepared);
    const analysis = this.analyse(text);
    this.misses++;
    const entry: CacheEntry = { analysis, memoisable: !executesPrepared(analysis), movedAt: 0 };
    if (analysis.kind === 'statements' || analysis.lasting) {
      const verdict = this.judge(entry, prepared);
      // Keyed by shape only when nothing in the verdict depends on the literal values.
      const shapeSafe = shapeKey !== undefined && entry.memoisable && analysis.kind === 'statements' && verdict.effects.length === 0;
      this.remember(shapeSafe ? shapeKey : textKey, entry);
      return verdict;
    }
    return this.judge(entry, prepared);
  }

  private lookup(key: string): CacheEntry | undefined {
    const cached = this.entries.get(key);
    if (cached === undefined) return undefined;
    this.hits++;
    // Most recently used goes last in the Map's order. An entry among the last quarter moved
    // there stays put: that many entries go before it, and a delete and set on every hit
    // makes the Map rehash over and over (3% of a split router's CPU, measured with perf).
    if (this.moves - cached.movedAt >= this.refreshDistance) {
      this.entries.delete(key);
      this.entries.set(key, cached);
      cached.movedAt = ++this.moves;
    }
    return cached;
  }

  counters(): ClassifierCounters {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      uncached: this.uncached,
      byFirstKeyword: this.byFirstKeyword,
      entries: this.entries.size,
      cachedLength: this.cachedLength,
      parses: this.parses,
      parseSeconds: this.parseMilliseconds / 1000,
    };
  }

  /** Hits over lookups (hits, misses and uncached texts; not the writes decided by their first keyword); 0 before the first. */
  hitRatio(): number {
    const lookups = this.hits + this.misses + this.uncached;
    return lookups === 0 ? 0 : this.hits / lookups;
  }

  private analyse(text: string): TextAnalysis {
    const started = this.now();
    // classify() has already asked the first keyword: a text gets here only when it could not decide.
    const analysis = analyseText(text, { maxParsedLength: this.maxParsedLength, firstKeyword: false });
    this.parseMilliseconds += this.now() - started;
    this.parses++;
    return analysis;
  }

  private judge(entry: CacheEntry, prepared: PreparedStatementLookup | undefined): StatementVerdict {
    if (!entry.memoisable) return verdictOf(entry.analysis, this.functionCatalog, prepared);
    if (entry.verdict === undefined || entry.judgedIn !== this.catalogGeneration) {
      entry.verdict = verdictOf(entry.analysis, this.functionCatalog);
      entry.judgedIn = this.catalogGeneration;
    }
    return entry.verdict;
  }

  private remember(text: string, entry: CacheEntry): void {
    if (this.capacity === 0) return;
    entry.movedAt = ++this.moves;
    this.entries.set(text, entry);
    this.cachedLength += text.length;
    while (this.entries.size > this.capacity || this.cachedLength > this.maxCachedTotalLength) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
      this.cachedLength -= oldest.value.length;
      this.evictions++;
    }
  }
}

function executesPrepared(analysis: TextAnalysis): boolean {
  return analysis.kind === 'statements' && analysis.statements.some((s) => s.executes !== undefined);
}
