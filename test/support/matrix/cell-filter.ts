/**
 * MATRIX_FILTER: run only some cells of the compatibility matrix, e.g. to rerun a failing one
 * or one cluster shape of the full product: `driver=pgjdbc|psql,hba=md5` keeps the cells whose
 * driver is pgjdbc or psql and whose hba is md5. A misspelt axis or value is an error, so a
 * filter never silently selects nothing.
 */
import { compatAxes, type CompatCell } from './compat-axes.js';

export type CellFilter = (cell: CompatCell) => boolean;

export function parseCellFilter(text: string | undefined): CellFilter {
  if (text === undefined || text.trim() === '') return () => true;
  const wanted = new Map<keyof typeof compatAxes, Set<string>>();
  for (const part of text.split(',')) {
    const [axis, values] = part.split('=').map((s) => s.trim());
    if (axis === undefined || values === undefined || !(axis in compatAxes))
      throw new Error(`MATRIX_FILTER: "${part}" is not <axis>=<value>[|<value>] with an axis of ${Object.keys(compatAxes).join(', ')}`);
    const name = axis as keyof typeof compatAxes;
    const known: readonly string[] = compatAxes[name];
    const set = new Set(values.split('|'));
    for (const v of set) if (!known.includes(v)) throw new Error(`MATRIX_FILTER: ${axis} has no value "${v}" (${known.join(', ')})`);
    wanted.set(name, set);
  }
  return (cell) => [...wanted].every(([axis, values]) => values.has(cell[axis]));
}
