import { describe, expect, it } from 'vitest';
import { clusterAxes, compatAxes, meaningful, type CompatCell } from '../../support/matrix/compat-axes.js';
import { groupCells, groupedPairwise } from '../../support/matrix/grouped-pairwise.js';
import { fullProduct, pairwise, type Axes, type Cell } from '../../support/matrix/pairwise.js';

/** Every "axis a = x and axis b = y" pair in `cells`, written out independently of the generators. */
function pairsIn<A extends Axes>(cells: ReadonlyArray<Cell<A>>): Set<string> {
  const pairs = new Set<string>();
  for (const cell of cells) {
    const entries = Object.entries(cell);
    for (const [i, [a, x]] of entries.entries()) {
      for (const [b, y] of entries.slice(i + 1)) pairs.add(`${a}=${String(x)} ${b}=${String(y)}`);
    }
  }
  return pairs;
}

const shapeOf = (c: CompatCell): string => clusterAxes.map((a) => c[a]).join('/');

describe('groupedPairwise on the compatibility matrix', () => {
  const groups = groupedPairwise(compatAxes, clusterAxes, meaningful);
  const cells = groups.flatMap((g) => g.cells);

  it('covers every pair of values of every two axes, cluster and client axes alike', () => {
    expect(pairsIn(cells)).toEqual(pairsIn(fullProduct(compatAxes, meaningful)));
  });

  it('needs no more cells than plain all-pairs, on 6 cluster shapes where plain all-pairs uses many more', () => {
    const plain = pairwise(compatAxes, meaningful);
    // 6 drivers x 3 sslmodes is the lower bound on cells, patroni x hba on shapes (2 x 3).
    expect(cells.length).toBeGreaterThanOrEqual(18);
    expect(cells.length).toBeLessThanOrEqual(plain.length);
    expect(groups).toHaveLength(6);
    expect(new Set(plain.map(shapeOf)).size).toBeGreaterThan(10);
    console.log(
      `compatibility matrix: full product ${fullProduct(compatAxes, meaningful).length} cells on 24 shapes; pairwise ${plain.length} cells on ${new Set(plain.map(shapeOf)).size} shapes; grouped ${cells.length} cells on ${groups.length} shapes`,
    );
  });

  it('puts each cell in the group of its own cluster values, each shape once', () => {
    for (const g of groups) for (const c of g.cells) for (const a of clusterAxes) expect(c[a]).toBe(g.group[a]);
    expect(new Set(groups.map((g) => JSON.stringify(g.group))).size).toBe(groups.length);
  });

  it('is deterministic', () => {
    expect(groupedPairwise(compatAxes, clusterAxes, meaningful)).toEqual(groups);
  });
});

describe('groupedPairwise', () => {
  const axes = { db: ['a', 'b'], tls: ['off', 'on'], mode: ['disable', 'require'], user: ['x', 'y', 'z'] } as const;

  it('covers every pair some valid cell has, and no invalid cell, when validity spans group and client axes', () => {
    const valid = (c: Cell<typeof axes>): boolean => !(c.tls === 'off' && c.mode === 'require');
    const cells = groupedPairwise(axes, ['db', 'tls'], valid).flatMap((g) => g.cells);
    expect(cells.filter((c) => !valid(c))).toEqual([]);
    expect(pairsIn(cells)).toEqual(pairsIn(fullProduct(axes, valid)));
    expect(pairsIn(cells).has('tls=off mode=require')).toBe(false);
  });

  it('opens a group beyond the all-pairs tuples when validity keeps a pair off all of them', () => {
    const three = { db: ['a', 'b'], tls: ['off', 'on'], region: ['r1', 'r2'], user: ['x', 'z'] } as const;
    const groupAxes = ['db', 'tls', 'region'] as const;
    // All-pairs over 2 x 2 x 2 takes 4 of the 8 tuples; let user z exist only on one of the others.
    const usual = groupedPairwise(three, groupAxes).map((g) => JSON.stringify(g.group));
    expect(usual).toHaveLength(4);
    const other = fullProduct({ db: three.db, tls: three.tls, region: three.region }).find((t) => !usual.includes(JSON.stringify(t)))!;
    const valid = (c: Cell<typeof three>): boolean => c.user !== 'z' || (c.db === other.db && c.tls === other.tls && c.region === other.region);
    const groups = groupedPairwise(three, groupAxes, valid);
    expect(pairsIn(groups.flatMap((g) => g.cells))).toEqual(pairsIn(fullProduct(three, valid)));
    expect(groups.map((g) => JSON.stringify(g.group))).toContain(JSON.stringify(other));
    expect(groups).toHaveLength(5);
  });

  it('finds the fewest group tuples for 2 x 2 x 2 x 3 (greedy all-pairs needs 7)', () => {
    const shape = { p: ['3', '4'], s: ['on', 'off'], r: ['http', 'https'], h: ['trust', 'md5', 'scram'], d: ['one'] } as const;
    expect(pairwise({ p: shape.p, s: shape.s, r: shape.r, h: shape.h })).toHaveLength(7);
    expect(groupedPairwise(shape, ['p', 's', 'r', 'h'])).toHaveLength(6);
  });

  it('refuses a group axis that is not an axis', () => {
    expect(() => groupedPairwise(axes, ['nope' as 'db'])).toThrow(/group axis nope is not an axis/);
  });
});

describe('groupCells', () => {
  it('groups in order of first appearance, each group in product order', () => {
    const axes = { g: [1, 2], v: ['x', 'y'] } as const;
    expect(
      groupCells(
        axes,
        ['g'],
        [
          { g: 2, v: 'y' },
          { g: 1, v: 'y' },
          { g: 2, v: 'x' },
        ],
      ),
    ).toEqual([
      {
        group: { g: 2 },
        cells: [
          { g: 2, v: 'x' },
          { g: 2, v: 'y' },
        ],
      },
      { group: { g: 1 }, cells: [{ g: 1, v: 'y' }] },
    ]);
  });

  it('splits the full product into its 24 cluster shapes of 72 cells each', () => {
    const groups = groupCells(compatAxes, clusterAxes, fullProduct(compatAxes, meaningful));
    expect(groups).toHaveLength(24);
    expect(groups.every((g) => g.cells.length === 72)).toBe(true);
  });
});
