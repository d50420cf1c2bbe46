import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClusterState } from '../../../src/topology/cluster-state.js';
import { buildState } from '../../../src/topology/build-state.js';
import { parseClusterKeys } from '../../../src/topology/parse-cluster-keys.js';

/** One line of test/fixtures/patroni-3.0.2/*.jsonl, keys made relative to the scope. */
export type FixtureStep =
  { tMs: number; type: 'snapshot'; keys: Map<string, string> } | { tMs: number; type: 'put'; key: string; value: string } | { tMs: number; type: 'delete'; key: string };

/** Recordings of a real Patroni 3.0.2 cluster's etcd keys (see test/fixtures/README.md). */
const FIXTURES = fileURLToPath(new URL('../../fixtures/patroni-3.0.2', import.meta.url));
const PREFIX = '/service/batman/';

function relative(key: string): string {
  if (!key.startsWith(PREFIX)) throw new Error(`fixture key outside ${PREFIX}: ${key}`);
  return key.slice(PREFIX.length);
}

export function loadFixture(name: string): FixtureStep[] {
  const lines = readFileSync(`${FIXTURES}/${name}`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
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

export interface ReplayedStep {
  step: FixtureStep;
  /** The state before this step (undefined for the snapshot). */
  previous: ClusterState | undefined;
  state: ClusterState;
  changes: string[];
}

/**
 * Every step of a recording through the pure state builder, as a follower without REST
 * probes would see it (DCS contact at each event, nothing stale).
 */
export function replayFixture(name: string): ReplayedStep[] {
  const keys = new Map<string, string>();
  let previous: ClusterState | undefined;
  return loadFixture(name).map((step) => {
    applyStep(keys, step);
    const built = buildState(
      {
        scope: 'batman',
        namespace: '/service/',
        parsed: parseClusterKeys(keys),
        observations: new Map(),
        memberKeyChangedAt: new Map(),
        lastDcsContact: step.tMs,
        stale: false,
        now: step.tMs,
        observationMaxAgeMs: 3000,
        dcsLossWrites: 'ttl',
      },
      previous,
    );
    const replayed = { step, previous, state: built.state, changes: built.changes };
    previous = built.state;
    return replayed;
  });
}
