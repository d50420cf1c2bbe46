import type { Counter } from 'prom-client';

/** One series of a counter: its labels, made once, and its running total. */
export interface CounterCell<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  value: number;
}

/**
 * A labelled counter's series as plain numbers. prom-client hashes and validates the label
 * values on every inc() (through its labels() children too), and the proxy counts several
 * times per session; here an event finds its cell through one Map per label value (three at
 * most) and adds to a number, and the counter copies the cells into its series when scraped.
 */
export class CounterCells<L extends string> {
  private readonly cells = new Map<string, Map<string, Map<string, CounterCell<L>>>>();

  constructor(private readonly labelNames: readonly L[]) {
    if (labelNames.length < 1 || labelNames.length > 3) throw new RangeError('CounterCells takes one to three labels');
  }

  /** The cell of these label values, in labelNames' order. */
  cell(a: string, b = '', c = ''): CounterCell<L> {
    let byB = this.cells.get(a);
    if (byB === undefined) this.cells.set(a, (byB = new Map()));
    let byC = byB.get(b);
    if (byC === undefined) byB.set(b, (byC = new Map()));
    let cell = byC.get(c);
    if (cell === undefined) {
      const values = [a, b, c];
      const labels = Object.fromEntries(this.labelNames.map((name, i) => [name, values[i] ?? ''])) as Record<L, string>;
      byC.set(c, (cell = { labels, value: 0 }));
    }
    return cell;
  }

  /** Counter#collect: the counter's series become the cells' totals. */
  writeTo(counter: Counter<L>): void {
    counter.reset();
    for (const byB of this.cells.values()) for (const byC of byB.values()) for (const cell of byC.values()) counter.inc(cell.labels, cell.value);
  }
}
