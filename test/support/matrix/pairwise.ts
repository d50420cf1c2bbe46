/**
 * Test matrices: the full product of some axes, and a small set of cells that still covers every
 * pair of values of every two axes (all-pairs). Most interaction bugs need only two settings to
 * line up (a driver's sslmode and the router's TLS mode, say), so all-pairs catches them at a
 * fraction of the product's cost. Pure and deterministic: the same axes give the same cells in
 * the same order, so a failing cell keeps its name from run to run.
 */

/** Axis name -> the values it takes, in the order cells should prefer them. */
export type Axes = Readonly<Record<string, readonly unknown[]>>;

/** One value of every axis. */
export type Cell<A extends Axes> = { [K in keyof A]: A[K][number] };

/** Says whether a complete cell can be run (e.g. "verify-full needs TLS at the router"). */
export type Validity<A extends Axes> = (cell: Cell<A>) => boolean;

/**
 * The greedy search below looks at every valid cell of the product; past this many it would be
 * slow enough to notice, and a matrix that large wants a smarter generator anyway.
 */
const MAX_PRODUCT = 500_000;

export function axisNames<A extends Axes>(axes: A): Array<keyof A & string> {
  const names = Object.keys(axes) as Array<keyof A & string>;
  for (const name of names) {
    const values = axes[name] ?? [];
    if (values.length === 0) throw new Error(`axis ${name} has no values`);
    if (new Set(values).size !== values.length) throw new Error(`axis ${name} lists a value twice`);
  }
  return names;
}

/** Every combination of one value per axis, first axis varying slowest, without the invalid ones. */
export function fullProduct<A extends Axes>(axes: A, valid: Validity<A> = () => true): Array<Cell<A>> {
  const names = axisNames(axes);
  const size = names.reduce((n, name) => n * (axes[name]?.length ?? 0), 1);
  if (size > MAX_PRODUCT) throw new Error(`the product has ${size} cells; more than ${MAX_PRODUCT} is not supported`);
  let partial: Array<Record<string, unknown>> = [{}];
  for (const name of names) {
    const next: Array<Record<string, unknown>> = [];
    for (const cell of partial) for (const value of axes[name] ?? []) next.push({ ...cell, [name]: value });
    partial = next;
  }
  return (partial as Array<Cell<A>>).filter((cell) => valid(cell));
}

/**
 * A key for "axis a has value x and axis b has value y"; values are compared by identity of
 * their position in the axis, so any value type works.
 */
function pairKey(a: number, ia: number, b: number, ib: number): string {
  return `${a}:${ia}|${b}:${ib}`;
}

function positionIn(values: readonly unknown[], value: unknown): number {
  return values.indexOf(value);
}

/** The pair keys one cell covers, given the position of each of its values in its axis. */
function pairsOfIndexes(indexes: readonly number[]): string[] {
  const keys: string[] = [];
  for (let a = 0; a < indexes.length; a++) {
    for (let b = a + 1; b < indexes.length; b++) keys.push(pairKey(a, indexes[a] ?? -1, b, indexes[b] ?? -1));
  }
  return keys;
}

/** The keys of the pairs one cell covers; equal keys mean the same two axes with the same two values. */
export function pairsOfCell<A extends Axes>(axes: A, cell: Cell<A>): string[] {
  const names = axisNames(axes);
  return pairsOfIndexes(names.map((name) => positionIn(axes[name] ?? [], cell[name])));
}

/**
 * Cells covering every pair of values (of every two axes) that some valid cell contains. A pair
 * that no valid cell contains cannot be covered and is left out, never forced in.
 *
 * Greedy: repeatedly take the valid cell that covers the most pairs not yet covered; ties go to
 * the cell that comes first in `fullProduct` order. Close to the optimum for test-sized axes
 * (the lower bound is the product of the two largest axes) and fully deterministic.
 */
export function pairwise<A extends Axes>(axes: A, valid: Validity<A> = () => true): Array<Cell<A>> {
  const names = axisNames(axes);
  if (names.length < 2) return fullProduct(axes, valid);
  const candidates = fullProduct(axes, valid).map((cell) => ({ cell, pairs: pairsOfCell(axes, cell) }));
  const uncovered = new Set(candidates.flatMap((c) => c.pairs));
  const chosen: Array<Cell<A>> = [];
  while (uncovered.size > 0) {
    let best = -1;
    let bestGain = 0;
    for (let i = 0; i < candidates.length; i++) {
      let gain = 0;
      for (const key of candidates[i]?.pairs ?? []) if (uncovered.has(key)) gain++;
      if (gain > bestGain) {
        best = i;
        bestGain = gain;
      }
    }
    const pick = candidates[best];
    // Every uncovered pair came from some candidate, so some candidate always gains.
    if (pick === undefined) throw new Error('pairwise: no cell covers the remaining pairs');
    for (const key of pick.pairs) uncovered.delete(key);
    chosen.push(pick.cell);
  }
  return chosen;
}
