/** A chaos report as markdown, the figures first. Pure. */
import { table as markdownTable } from '../../bench/markdown-table.js';
import { FAULT_KINDS } from '../faults/fault-plan.js';
import { INVARIANTS, type InvariantName } from '../invariants/violations.js';
import { countViolations, type ChaosReport } from './chaos-report.js';

const mb = (kb: number): string => (kb / 1024).toFixed(1);
const time = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

export function renderChaosReport(r: ChaosReport): string {
  const out: string[] = [];
  const violations = countViolations(r.violations);
  out.push(`# Chaos run, seed ${r.seed}`, '');
  out.push(
    `${r.startedAt} to ${r.endedAt}: ${r.minutes} min of faults planned, ${Math.round(r.chaosSeconds)} s of chaos, ${Math.round(r.totalSeconds)} s in all. ` +
      `Replay with \`npm run chaos -- --seed ${r.seed} --minutes ${r.minutes}\`.`,
    '',
  );
  out.push(`**Invariant violations: ${r.violations.length}.**`, '');
  out.push('## Faults injected', '');
  out.push(
    markdownTable(
      ['kind', 'injected', 'could not be injected'],
      FAULT_KINDS.map((k) => [k, String(r.faultsByKind[k].injected), String(r.faultsByKind[k].failed)]),
    ),
  );
  out.push('', `Total: ${r.faults.filter((f) => f.failed === undefined).length} injected, ${r.faults.filter((f) => f.failed !== undefined).length} not.`, '');
  out.push('## Client errors by cause', '');
  if (r.clientErrors.byCause.length === 0) out.push('None.');
  else
    out.push(
      markdownTable(
        ['cause', 'errors', 'SQLSTATEs', 'example'],
        r.clientErrors.byCause.map((c) => [c.cause, String(c.count), c.codes.map((x) => `${x.code}×${x.count}`).join(' '), c.example.replace(/\|/g, '/').slice(0, 120)]),
      ),
    );
  out.push(
    '',
    `By source: ${
      Object.entries(r.clientErrors.bySource)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ') || 'none'
    }.`,
    '',
  );
  out.push('## Invariants', '');
  out.push(
    markdownTable(
      ['invariant', 'what must hold', 'violations'],
      (Object.keys(INVARIANTS) as InvariantName[]).map((k) => [k, INVARIANTS[k], String(violations[k])]),
    ),
  );
  if (r.violations.length > 0) {
    out.push('', '### Violations', '');
    for (const v of r.violations) out.push(`- ${time(v.at)} **${v.invariant}**: ${v.detail}`);
  }
  out.push('', '## Router resources', '');
  out.push(
    markdownTable(
      ['', 'RSS MB', 'open fds'],
      [
        ['baseline (before the load)', mb(r.resources.baseline.rssKb), String(r.resources.baseline.fds)],
        ['peak', mb(r.resources.peak.rssKb), String(r.resources.peak.fds)],
        [`highest in the warm-up (first ${r.resources.warmUpMinutes} min of faults)`, mb(r.resources.warmRssKb), ''],
        ['final (load stopped)', mb(r.resources.final.rssKb), String(r.resources.final.fds)],
        ['limit for final', mb(r.resources.rssLimitKb), String(r.resources.baseline.fds + r.resources.fdTolerance)],
      ],
    ),
  );
  const heap = r.resources.liveHeapKb;
  const grew = r.resources.heapGrowth.map((g) => `${g.name} +${g.kb} kB (${g.count >= 0 ? '+' : ''}${g.count})`).join(', ');
  out.push(
    '',
    `Live heap after a full GC (V8 heap snapshots): ${mb(heap.baseline)} MB at the baseline, ${mb(heap.final)} MB at the end, limit ${mb(heap.limit)} MB. Grew most: ${grew || 'nothing'}.`,
    '',
    'RSS is judged for a climb after the warm-up, not against the idle baseline: V8 and glibc keep the pages the load made them take, and writing the baseline heap snapshot leaves memory in the allocator too.',
  );
  if (r.resources.perMinute.length > 0) out.push('', `RSS MB by minute: ${r.resources.perMinute.map((m) => `${m.minute}: ${mb(m.rssKb)}`).join(', ')}.`);
  out.push(
    '',
    `Leaked backends: ${r.backends.leaked.length}${r.backends.leaked.length > 0 ? ` (${r.backends.leaked.join('; ')})` : ''}. Left on the members, as expected: ${Object.entries(
      r.backends.expected,
    )
      .map(
        ([m, e]) =>
          `${m} ${
            Object.entries(e)
              .map(([n, c]) => `${c}× ${n}`)
              .join(', ') || 'none'
          }`,
      )
      .join('; ')}.`,
    '',
  );
  out.push(`Router: ${r.router.exit}; ${r.router.logLines} log lines, ${r.router.errorLines} at error level or above, ${r.router.warnLines} warnings.`, '');
  out.push('## Load', '');
  out.push(
    markdownTable(
      ['load', 'listener', 'done', 'errors'],
      r.load.map((l) => [l.name, l.listener, `${l.done} ${l.unit}`, String(l.errors)]),
    ),
  );
  out.push(
    '',
    markdownTable(
      ['writer', 'acknowledged', 'rows', 'duplicates', "lost in a crash's tail"],
      r.writes.map((w) => [w.writer, String(w.acknowledged), String(w.rows), String(w.duplicates), String(w.lostInCrashTails)]),
    ),
  );
  const c = r.checks;
  out.push(
    '',
    `Checked: ${c.placementJudged} acknowledged writes against the leader key (${c.placementUnjudged} unjudged, etcd not answering around them); ${c.fencingJudged} fenced write sessions against the primary's own role (${c.fencingUnjudged} unjudged); ` +
      `gauges against pg_stat_activity at ${c.gaugeCheckpoints} quiet moments (${c.gaugeCheckpointsUnjudged} without a stable reading).`,
    '',
  );
  out.push('## Fault log', '');
  for (const f of r.faults) {
    const took = `${((f.endedAt - f.startedAt) / 1000).toFixed(1)} s${f.recoveredAt !== undefined ? `, healthy again after ${((f.recoveredAt - f.startedAt) / 1000).toFixed(1)} s` : ''}`;
    out.push(
      `${f.index}. ${time(f.startedAt)} ${f.description}${f.target ? ` on ${f.target}` : ''}: ${f.failed !== undefined ? `NOT INJECTED: ${f.failed}` : took}${f.notes.length > 0 ? `. ${f.notes.join('. ')}` : ''}`,
    );
  }
  out.push('', '## Setup', '');
  for (const s of r.setup) out.push(`- ${s}`);
  if (r.notes.length > 0) {
    out.push('', '## Notes', '');
    for (const n of r.notes) out.push(`- ${n}`);
  }
  return `${out.join('\n')}\n`;
}
