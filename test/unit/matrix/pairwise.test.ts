import { describe, expect, it } from 'vitest';
import { fullProduct, pairwise, type Axes, type Cell } from '../../support/matrix/pairwise.js';

// The matrix the router's compatibility tests are meant to cover (issue 9).
const routerAxes = {
  patroni: ['3', '4'],
  memberSsl: ['on', 'off'],
  restApi: ['http', 'https'],
  hba: ['trust', 'md5', 'scram-sha-256'],
  routerTls: ['passthrough', 'terminate'],
  sslmode: ['disable', 'prefer', 'require'],
  driver: ['psql', 'pgbench', 'node-postgres', 'psycopg2', 'psycopg3', 'pgjdbc'],
  listener: ['primary', 'replica'],
} as const;

type RouterCell = Cell<typeof routerAxes>;

/**
 * A client that insists on TLS cannot connect when the router passes TLS through to members
 * that have ssl off: there is nothing to test there but the refusal.
 */
const connectable = (c: RouterCell): boolean => !(c.sslmode === 'require' && c.routerTls === 'passthrough' && c.memberSsl === 'off');

/** Every "axis a = x and axis b = y" pair in `cells`, written out independently of the generator. */
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

describe('fullProduct', () => {
  it('lists every combination once, first axis slowest', () => {
    expect(fullProduct({ a: [1, 2], b: ['x', 'y', 'z'] })).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 1, b: 'z' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
      { a: 2, b: 'z' },
    ]);
    expect(fullProduct(routerAxes)).toHaveLength(2 * 2 * 2 * 3 * 2 * 3 * 6 * 2);
  });

  it('leaves out invalid cells', () => {
    const cells = fullProduct(routerAxes, connectable);
    expect(cells.every(connectable)).toBe(true);
    expect(cells).toHaveLength(1728 - 2 * 2 * 3 * 6 * 2);
  });

  it('refuses empty axes and repeated values', () => {
    expect(() => fullProduct({ a: [] })).toThrow(/axis a has no values/);
    expect(() => pairwise({ a: [1, 1], b: [2] })).toThrow(/axis a lists a value twice/);
  });
});

describe('pairwise', () => {
  it('covers every pair of the router matrix with far fewer cells than the product', () => {
    const cells = pairwise(routerAxes);
    expect(pairsIn(cells)).toEqual(pairsIn(fullProduct(routerAxes)));
    // 6 drivers x 3 sslmodes (or x 3 hba methods) is the lower bound.
    expect(cells.length).toBeGreaterThanOrEqual(18);
    expect(cells.length).toBeLessThanOrEqual(24);
    console.log(`router matrix: full product ${fullProduct(routerAxes).length} cells, pairwise ${cells.length}`);
  });

  it('never emits an invalid cell and still covers every pair some valid cell has', () => {
    const cells = pairwise(routerAxes, connectable);
    expect(cells.filter((c) => !connectable(c))).toEqual([]);
    const reachable = pairsIn(fullProduct(routerAxes, connectable));
    expect(pairsIn(cells)).toEqual(reachable);
    // The pairs only invalid cells have stay uncovered (require + passthrough + ssl off is
    // invalid, but each two of those three still meet in valid cells).
    expect(reachable.has('memberSsl=off routerTls=passthrough')).toBe(true);
    expect(reachable.has('memberSsl=off sslmode=require')).toBe(true);
    console.log(`router matrix without require+passthrough+ssl-off: full product ${fullProduct(routerAxes, connectable).length} cells, pairwise ${cells.length}`);
  });

  it('drops a pair that no valid cell contains instead of forcing it in', () => {
    const axes = { tls: ['off', 'on'], mode: ['disable', 'require'], user: ['a', 'b'] } as const;
    const cells = pairwise(axes, (c) => !(c.tls === 'off' && c.mode === 'require'));
    expect(pairsIn(cells).has('tls=off mode=require')).toBe(false);
    expect(pairsIn(cells)).toEqual(pairsIn(fullProduct(axes, (c) => !(c.tls === 'off' && c.mode === 'require'))));
  });

  it('is deterministic and tries values in the order the axes list them', () => {
    expect(pairwise(routerAxes)).toEqual(pairwise(routerAxes));
    expect(pairwise(routerAxes)[0]).toEqual(fullProduct(routerAxes)[0]);
  });

  it('returns the product for a single axis and an empty cell for no axes', () => {
    expect(pairwise({ driver: ['psql', 'pgjdbc'] })).toEqual([{ driver: 'psql' }, { driver: 'pgjdbc' }]);
    expect(pairwise({})).toEqual([{}]);
  });

  it('needs exactly the product of the two axes when there are only two', () => {
    expect(pairwise({ a: [1, 2, 3], b: [1, 2] })).toHaveLength(6);
  });
});
