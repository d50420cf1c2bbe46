import { readFileSync } from 'node:fs';

/** One line of /work/shared/fixtures/patroni-3.0.2/*.jsonl, keys made relative to the scope. */
export type FixtureStep =
  | { tMs: number; type: 'snapshot'; keys: Map<string, string> }
  | { tMs: number; type: 'put'; key: string; value: string }
  | { tMs: number; type: 'delete'; key: string };

const FIXTURES = '/work/shared/fixtures/patroni-3.0.2';
const PREFIX = '/service/batman/';

function relative(key: string): string {
  if (!key.startsWith(PREFIX)) throw new Error(`fixture key outside ${PREFIX}: ${key}`);
  return key.slice(PREFIX.length);
}

export function loadFixture(name: string): FixtureStep[] {
  const lines = readFileSync(`${FIXTURES}/${name}`, 'utf8').split('\n').filter((l) => l.trim() !== '');
  return lines.map((line) => {
    const d = JSON.parse(line) as { t_ms: number; type: string; key?: string; value?: string; keys?: Record<string, string> };
    if (d.type === 'snapshot') {
      return { tMs: d.t_ms, type: 'snapshot', keys: new Map(Object.entries(d.keys ?? {}).map(([k, v]) => [relative(k), v])) };
    }
    if (d.type === 'put') return { tMs: d.t_ms, type: 'put', key: relative(d.key!), value: d.value! };
    return { tMs: d.t_ms, type: 'delete', key: relative(d.key!) };
  });
}

/** Apply one step to a key map (mutating it), as a DCS watcher would. */
export function applyStep(keys: Map<string, string>, step: FixtureStep): void {
  if (step.type === 'snapshot') {
    keys.clear();
    for (const [k, v] of step.keys) keys.set(k, v);
  } else if (step.type === 'put') keys.set(step.key, step.value);
  else keys.delete(step.key);
}
