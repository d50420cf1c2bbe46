import { describe, expect, it } from 'vitest';
import { parseCellFilter } from '../../support/matrix/cell-filter.js';
import { compatAxes } from '../../support/matrix/compat-axes.js';
import { fullProduct } from '../../support/matrix/pairwise.js';

describe('parseCellFilter (MATRIX_FILTER)', () => {
  const all = fullProduct(compatAxes);

  it('keeps everything when empty', () => {
    expect(all.filter(parseCellFilter(undefined))).toHaveLength(all.length);
    expect(all.filter(parseCellFilter(' '))).toHaveLength(all.length);
  });

  it('keeps the cells matching every axis, any of the values listed for one', () => {
    const kept = all.filter(parseCellFilter('driver=pgjdbc|psql,hba=md5'));
    expect(kept).toHaveLength(all.length / 3 / 3);
    expect(kept.every((c) => ['pgjdbc', 'psql'].includes(c.driver) && c.hba === 'md5')).toBe(true);
  });

  it('refuses an unknown axis or value instead of selecting nothing', () => {
    expect(() => parseCellFilter('drivers=psql')).toThrow(/"drivers=psql" is not <axis>=<value>/);
    expect(() => parseCellFilter('driver=libpq')).toThrow(/driver has no value "libpq"/);
    expect(() => parseCellFilter('driver')).toThrow(/is not <axis>=<value>/);
  });
});
