/**
 * What a V8 heap snapshot says the router really retains. Pure.
 *
 * V8 runs a full garbage collection before it writes a snapshot, so the sum of the nodes'
 * self sizes is the live heap, unlike `heapUsed`, which counts garbage not yet collected. A leak
 * shows as live heap that grew between two snapshots; the constructors that grew name it.
 */

export interface HeapCensus {
  /** Bytes of every live object's own size. */
  liveBytes: number;
  nodes: number;
  /** Bytes and counts by class name (objects) or by kind (strings, code, arrays, ...). */
  byName: Map<string, { bytes: number; count: number }>;
}

interface SnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

/** Reads a `.heapsnapshot` file's text; throws naming the field that is missing. */
export function censusOfHeapSnapshot(text: string): HeapCensus {
  const file = JSON.parse(text) as Partial<SnapshotFile>;
  const meta = file.snapshot?.meta;
  if (!meta || !Array.isArray(file.nodes) || !Array.isArray(file.strings)) throw new Error('not a V8 heap snapshot: snapshot.meta, nodes or strings is missing');
  const fields = meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const typeNames = meta.node_types[typeAt];
  if (typeAt < 0 || nameAt < 0 || sizeAt < 0 || !Array.isArray(typeNames)) throw new Error('not a V8 heap snapshot: node_fields lacks type, name or self_size');
  const byName = new Map<string, { bytes: number; count: number }>();
  let liveBytes = 0;
  const { nodes, strings } = file;
  for (let i = 0; i < nodes.length; i += width) {
    const size = nodes[i + sizeAt] as number;
    const type = String(typeNames[nodes[i + typeAt] as number]);
    // Objects and closures are told apart by their class or function; everything else by kind.
    const name = type === 'object' || type === 'closure' ? `${type === 'closure' ? 'closure ' : ''}${strings[nodes[i + nameAt] as number] ?? '?'}` : `(${type})`;
    liveBytes += size;
    const entry = byName.get(name);
    if (entry) {
      entry.bytes += size;
      entry.count += 1;
    } else byName.set(name, { bytes: size, count: 1 });
  }
  return { liveBytes, nodes: nodes.length / width, byName };
}

export interface HeapGrowth {
  name: string;
  bytes: number;
  count: number;
}

/** The names whose live bytes grew most from `before` to `after`, largest first. */
export function heapGrowth(before: HeapCensus, after: HeapCensus, top = 10): HeapGrowth[] {
  const out: HeapGrowth[] = [];
  for (const [name, a] of after.byName) {
    const b = before.byName.get(name) ?? { bytes: 0, count: 0 };
    if (a.bytes > b.bytes) out.push({ name, bytes: a.bytes - b.bytes, count: a.count - b.count });
  }
  return out.sort((x, y) => y.bytes - x.bytes).slice(0, top);
}
