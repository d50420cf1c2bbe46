/**
 * All-pairs cells that share as few "group" tuples as possible. In the compatibility matrix a
 * group is a cluster shape (patroni, member TLS, REST API, pg_hba): each distinct one costs a
 * real cluster start, while a client-side cell (driver, sslmode, ...) costs one scenario run.
 * Plain all-pairs spreads its cells over almost as many shapes as it has cells; this picks the
 * shapes first (all-pairs over the group axes alone) and then places client-side cells on those
 * shapes until every pair of every two axes, group axes included, is covered.
 */
import { axisNames, fullProduct, pairsOfCell, pairwise, type Axes, type Cell, type Validity } from './pairwise.js';

/** The values of the group axes, shared by every cell in the group. */
export type GroupOf<A extends Axes, K extends keyof A> = Pick<Cell<A>, K>;

export interface CellGroup<A extends Axes, K extends keyof A> {
  group: GroupOf<A, K>;
  cells: Array<Cell<A>>;
}

/** A value's place in its axis: values are compared by identity, so any value type works. */
function position(values: readonly unknown[] | undefined, value: unknown): number {
  return (values ?? []).indexOf(value);
}

function groupKey<A extends Axes, K extends keyof A & string>(axes: A, groupAxes: readonly K[], cell: GroupOf<A, K>): string {
  return groupAxes.map((name) => position(axes[name], cell[name])).join(',');
}

function groupPart<A extends Axes, K extends keyof A & string>(groupAxes: readonly K[], cell: Cell<A>): GroupOf<A, K> {
  const part: Partial<GroupOf<A, K>> = {};
  for (const name of groupAxes) part[name] = cell[name];
  return part as GroupOf<A, K>;
}

/**
 * `cells` in groups of equal group-axis values: groups in the order their first cell comes,
 * each group's cells in `fullProduct` order (so a cell's position is stable across runs).
 */
export function groupCells<A extends Axes, K extends keyof A & string>(axes: A, groupAxes: readonly K[], cells: ReadonlyArray<Cell<A>>): Array<CellGroup<A, K>> {
  const names = axisNames(axes);
  const keyOf = (cell: Cell<A>): string => names.map((n) => position(axes[n], cell[n])).join(',');
  const rank = new Map(fullProduct(axes).map((cell, i) => [keyOf(cell), i]));
  const rankOf = (cell: Cell<A>): number => rank.get(keyOf(cell)) ?? 0;
  const groups = new Map<string, CellGroup<A, K>>();
  for (const cell of cells) {
    const group = groupPart<A, K>(groupAxes, cell);
    const key = groupKey(axes, groupAxes, group);
    const found = groups.get(key) ?? { group, cells: [] };
    found.cells.push(cell);
    groups.set(key, found);
  }
  return [...groups.values()].map((g) => ({ group: g.group, cells: [...g.cells].sort((a, b) => rankOf(a) - rankOf(b)) }));
}

/** Search nodes the exact search below may visit before settling for the greedy answer. */
const SEARCH_BUDGET = 200_000;

/**
 * All-pairs over the group axes with as few tuples as a bounded exact search finds (greedy
 * all-pairs needs 7 cluster shapes for 2 x 2 x 2 x 3 where 6 suffice, and a shape is a
 * cluster start). Depth-first from the lower bound up: the first pair still uncovered must be
 * covered by one of the tuples that contain it, so only those are tried there. Deterministic;
 * the greedy result stands when the budget runs out.
 */
function fewestTuples<G extends Axes>(axes: G, valid: Validity<G>): Array<Cell<G>> {
  const greedy = pairwise(axes, valid);
  const tuples = fullProduct(axes, valid).map((cell) => ({ cell, pairs: pairsOfCell(axes, cell) }));
  const allPairs = [...new Set(tuples.flatMap((t) => t.pairs))];
  const sizes = axisNames(axes)
    .map((n) => (axes[n] ?? []).length)
    .sort((a, b) => b - a);
  const lowerBound = (sizes[0] ?? 1) * (sizes[1] ?? 1);
  let nodes = 0;
  const search = (chosen: number[], covered: Set<string>, depth: number): number[] | undefined => {
    if (++nodes > SEARCH_BUDGET) return undefined;
    const open = allPairs.find((p) => !covered.has(p));
    if (open === undefined) return chosen;
    if (depth === 0) return undefined;
    for (const [i, t] of tuples.entries()) {
      if (!t.pairs.includes(open)) continue;
      const found = search([...chosen, i], new Set([...covered, ...t.pairs]), depth - 1);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  for (let size = lowerBound; size < greedy.length && nodes <= SEARCH_BUDGET; size++) {
    const found = search([], new Set(), size);
    if (found !== undefined) return found.map((i) => tuples[i]?.cell).filter((c): c is Cell<G> => c !== undefined);
  }
  return greedy;
}

/**
 * Cells covering every pair of values of every two axes that some valid cell contains (as
 * `pairwise` does), on few distinct group tuples.
 *
 * The group tuples are all-pairs over the group axes (restricted to tuples some valid cell
 * has), as few as `fewestTuples` finds. Then, greedily, the valid cell on an already chosen tuple that covers the most
 * uncovered pairs is taken; only when no such cell covers anything new (a pair that validity
 * keeps off every chosen tuple) is a cell on a new tuple taken, which opens that tuple. A
 * chosen tuple whose pairs all end up covered by other groups gets no cells and is dropped.
 */
export function groupedPairwise<A extends Axes, K extends keyof A & string>(axes: A, groupAxes: readonly K[], valid: Validity<A> = () => true): Array<CellGroup<A, K>> {
  const names = axisNames(axes);
  for (const g of groupAxes) if (!names.includes(g)) throw new Error(`group axis ${g} is not an axis`);
  const candidates = fullProduct(axes, valid).map((cell) => ({ cell, pairs: pairsOfCell(axes, cell), group: groupKey(axes, groupAxes, groupPart<A, K>(groupAxes, cell)) }));
  const possible = new Set(candidates.map((c) => c.group));
  const only: Record<string, readonly unknown[]> = {};
  for (const g of groupAxes) only[g] = axes[g] ?? [];
  const groupAxesOnly = only as Pick<A, K>;
  const open = new Set(fewestTuples(groupAxesOnly, (g) => possible.has(groupKey(axes, groupAxes, g as GroupOf<A, K>))).map((g) => groupKey(axes, groupAxes, g as GroupOf<A, K>)));
  const uncovered = new Set(candidates.flatMap((c) => c.pairs));
  const chosen: Array<Cell<A>> = [];
  const gainOf = (pairs: readonly string[]): number => pairs.reduce((n, key) => n + (uncovered.has(key) ? 1 : 0), 0);
  const best = (pool: typeof candidates): (typeof candidates)[number] | undefined => {
    let pick: (typeof candidates)[number] | undefined;
    let pickGain = 0;
    for (const c of pool) {
      const gain = gainOf(c.pairs);
      if (gain > pickGain) {
        pick = c;
        pickGain = gain;
      }
    }
    return pick;
  };
  while (uncovered.size > 0) {
    const pick = best(candidates.filter((c) => open.has(c.group))) ?? best(candidates);
    // Every uncovered pair came from some candidate, so some candidate always gains.
    if (pick === undefined) throw new Error('groupedPairwise: no cell covers the remaining pairs');
    open.add(pick.group);
    for (const key of pick.pairs) uncovered.delete(key);
    chosen.push(pick.cell);
  }
  // Groups in the order all-pairs over the group axes listed them, then any opened later.
  const order = [...open];
  return groupCells(axes, groupAxes, chosen).sort((a, b) => order.indexOf(groupKey(axes, groupAxes, a.group)) - order.indexOf(groupKey(axes, groupAxes, b.group)));
}
