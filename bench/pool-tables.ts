/**
 * The failover rounds' pooled writers in the report: a summary and a row per round and proxy,
 * and issue 15's targets for the router's pool with HAProxy's figures beside them. Pure.
 */
import { fmt, table } from './markdown-table.js';
import { POOL_PROXIES, type FailoverRound, type PoolOutcome, type PoolProxy, type PooledWriterSettings } from './results.js';
import { median } from './statistics.js';

interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

/** The longest wait a client saw, over the physical limit: the oracle's write gap. */
export const WAIT_OVER_ORACLE_TARGET_MS = 200;

function counts(c: Record<string, number>): string {
  const entries = Object.entries(c).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? '-' : entries.map(([k, n]) => `${k}×${n}`).join(', ');
}

const poolOf = (round: FailoverRound, proxy: PoolProxy): PoolOutcome | undefined => round.pools?.[proxy];

/** Proxies whose pool ran in any of the rounds. */
function poolProxiesThatRan(rounds: readonly FailoverRound[]): PoolProxy[] {
  return POOL_PROXIES.filter((p) => rounds.some((r) => poolOf(r, p) !== undefined));
}

const waitOverOracle = (round: FailoverRound, pool: PoolOutcome): number => pool.longestWaitMs - round.outages.oracle.longestGapMs;

function movesCell(pool: PoolOutcome): string {
  if (!pool.moves) return '-';
  const wait = Number.isFinite(pool.moves.moveWaitMeanMs) ? ` (mean wait ${fmt(pool.moves.moveWaitMeanMs, 0)} ms)` : '';
  return `${pool.moves.moved} of ${pool.moves.sessionsAtEvent}${wait}`;
}

const notMovedCell = (pool: PoolOutcome): string => (pool.moves ? counts(pool.moves.notMoved) : '-');

function sumCounts(pools: readonly PoolOutcome[], pick: (p: PoolOutcome) => Record<string, number>): Record<string, number> {
  const total: Record<string, number> = {};
  for (const p of pools) for (const [k, n] of Object.entries(pick(p))) total[k] = (total[k] ?? 0) + n;
  return total;
}

function summaryTable(rounds: readonly FailoverRound[]): string {
  const rows = poolProxiesThatRan(rounds).map((proxy) => {
    const ran = rounds.filter((r) => poolOf(r, proxy) !== undefined);
    const pools = ran.map((r) => poolOf(r, proxy) as PoolOutcome);
    const waits = pools.map((p) => p.longestWaitMs);
    const over = ran.map((r) => waitOverOracle(r, poolOf(r, proxy) as PoolOutcome));
    const moved = pools.some((p) => p.moves) ? String(pools.reduce((s, p) => s + (p.moves?.moved ?? 0), 0)) : '-';
    const notMoved = pools.some((p) => p.moves) ? counts(sumCounts(pools, (p) => p.moves?.notMoved ?? {})) : '-';
    return [
      proxy,
      String(pools.reduce((s, p) => s + p.errors, 0)),
      counts(sumCounts(pools, (p) => p.errorsByCode)),
      counts(sumCounts(pools, (p) => p.errorsByCause)),
      String(pools.reduce((s, p) => s + p.idleErrors, 0)),
      `${fmt(median(waits), 0)} / ${fmt(Math.max(...waits), 0)}`,
      `${fmt(median(over), 0)} / ${fmt(Math.max(...over), 0)}`,
      moved,
      notMoved,
      `${pools.reduce((s, p) => s + p.lostAcknowledged, 0)} / ${pools.reduce((s, p) => s + p.writtenTwice, 0)}`,
    ];
  });
  return table(
    [
      'pool via',
      'client errors (total)',
      'by SQLSTATE/code',
      'by cause',
      'on sessions idle at the event',
      'longest wait ms median / worst',
      "longest wait over the oracle's gap ms median / worst",
      'sessions moved',
      'not moved (by reason)',
      'acknowledged lost / written twice',
    ],
    rows,
  );
}

function roundsTable(rounds: readonly FailoverRound[]): string {
  const rows: string[][] = [];
  for (const round of rounds) {
    for (const proxy of poolProxiesThatRan(rounds)) {
      const p = poolOf(round, proxy);
      if (!p) continue;
      const errorsSent = p.errors > 0 ? ` (sent ${fmt(p.firstErrorSentMs, 0)} to ${fmt(p.lastErrorSentMs, 0)} ms)` : '';
      rows.push([
        `${round.kind} ${round.round} (${round.from} → ${round.to}${round.kind === 'crash' && round.idleFromMs !== undefined ? `, crash seen at ${fmt(round.idleFromMs, 0)} ms` : ''})`,
        proxy,
        `${p.errors}${errorsSent}`,
        counts(p.errorsByCode),
        counts(p.errorsByCause),
        String(p.idleErrors),
        `${fmt(p.longestWaitMs, 0)} (sent at ${fmt(p.longestWaitSentMs, 0)} ms)`,
        fmt(round.outages.oracle.longestGapMs, 0),
        fmt(waitOverOracle(round, p), 0),
        `${fmt(p.longestGapMs, 0)}${p.recovered ? '' : ' (never recovered)'}`,
        movesCell(p),
        notMovedCell(p),
        String(p.reopened),
        `${fmt(p.lostAcknowledged, 0)} / ${fmt(p.writtenTwice, 0)}`,
      ]);
    }
  }
  return table(
    [
      'event',
      'pool via',
      'client errors',
      'by SQLSTATE/code',
      'by cause',
      'on idle sessions',
      'longest wait ms',
      'oracle gap ms',
      'wait over oracle ms',
      'pool write gap ms',
      'sessions moved',
      'not moved',
      'connections reopened',
      'lost / twice',
    ],
    rows,
  );
}

/** The pooled writers' part of a switchover or crash section; nothing for results that predate them. */
export function poolSection(rounds: readonly FailoverRound[], settings: PooledWriterSettings | undefined): string[] {
  if (!rounds.some((r) => r.pools !== undefined)) return [];
  const out: string[] = [];
  out.push(`### Pooled writers`);
  out.push('');
  out.push(
    settings
      ? `A pg.Pool of ${settings.size} long-lived connections per proxy (all open before the event), each connection writing a numbered row every ${settings.intervalMs} ms, as ${settings.user}; ` +
          'a connection that failed is dropped and the pool opens another, as applications do. The router here is a second router process with `auth:` (so its primary listener moves sessions), ' +
          `apart from the single writer's. ${settings.login} ` +
          "Longest wait: the longest single request (asking the pool to the answer) of any connection in the round; the oracle's gap is the physical limit. " +
          '"Idle at the event": in a crash, requests sent after the first client saw the crash (a SIGKILL closes the member\'s sockets at once, so those were not in flight when it died); in a switchover, every request. ' +
          "Moved / not moved: the router's patroni_router_sessions_moved_total and sessions_not_moved_total, read from its /metrics just before the event and after the round." +
          (settings.routerMissing ? ` The router's pool did not run: ${settings.routerMissing}.` : '')
      : 'Pooled writers beside the single ones.',
  );
  out.push('');
  out.push(summaryTable(rounds));
  out.push('');
  out.push(roundsTable(rounds));
  out.push('');
  return out;
}

function haproxyBeside(rounds: readonly FailoverRound[], pick: (r: FailoverRound, p: PoolOutcome) => number, unit: string): string {
  const values = rounds.flatMap((r) => (poolOf(r, 'haproxy') ? [pick(r, poolOf(r, 'haproxy') as PoolOutcome)] : []));
  return values.length === 0 ? '' : `; HAProxy's pool: ${unit === 'ms' ? `worst ${fmt(Math.max(...values), 0)} ms over` : `${values.reduce((s, v) => s + v, 0)}`}`;
}

/** HAProxy's clients fail rather than wait: its pool's write gap says what they lost. */
function haproxyGapBeside(rounds: readonly FailoverRound[]): string {
  const over = rounds.flatMap((r) => {
    const p = poolOf(r, 'haproxy');
    return p ? [p.longestGapMs - r.outages.oracle.longestGapMs] : [];
  });
  return over.length === 0 ? '' : ` (its requests failed instead of waiting: its write gap worst ${fmt(Math.max(...over), 0)} ms over)`;
}

/** Issue 15's targets for the router's pool, with HAProxy's pool beside it. */
export function judgePoolTargets(switchovers: readonly FailoverRound[], crashes: readonly FailoverRound[], ranSwitchover: boolean, ranCrash: boolean): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const routerRounds = (rounds: readonly FailoverRound[]) => rounds.filter((r) => poolOf(r, 'router') !== undefined);
  if (ranSwitchover && switchovers.some((r) => r.pools !== undefined)) {
    const rounds = routerRounds(switchovers);
    if (rounds.length === 0) {
      checks.push({ target: 'switchover: router pool measured', measured: "the router's pool did not run", met: undefined });
    } else {
      const errors = rounds.reduce((s, r) => s + (poolOf(r, 'router') as PoolOutcome).errors, 0);
      checks.push({
        target: 'switchover, pooled writer: 0 client errors through the router',
        measured: `${errors} in ${rounds.length} round(s)${haproxyBeside(switchovers, (_, p) => p.errors, 'errors')}`,
        met: errors === 0,
      });
      const worst = Math.max(...rounds.map((r) => waitOverOracle(r, poolOf(r, 'router') as PoolOutcome)));
      checks.push({
        target: `switchover, pooled writer: longest client wait within ${WAIT_OVER_ORACLE_TARGET_MS} ms of the oracle's write gap`,
        measured: `worst ${fmt(worst, 0)} ms over${haproxyBeside(switchovers, waitOverOracle, 'ms')}${haproxyGapBeside(switchovers)}`,
        met: worst <= WAIT_OVER_ORACLE_TARGET_MS,
      });
    }
  }
  if (ranCrash && crashes.some((r) => r.pools !== undefined)) {
    const rounds = routerRounds(crashes);
    if (rounds.length === 0) {
      checks.push({ target: 'crash: router pool measured', measured: "the router's pool did not run", met: undefined });
    } else {
      const idle = rounds.reduce((s, r) => s + (poolOf(r, 'router') as PoolOutcome).idleErrors, 0);
      const all = rounds.reduce((s, r) => s + (poolOf(r, 'router') as PoolOutcome).errors, 0);
      checks.push({
        target: 'crash, pooled writer: 0 errors for sessions idle at the crash, through the router',
        measured: `${idle} (of ${all} errors in all) in ${rounds.length} round(s)${haproxyBeside(crashes, (_, p) => p.idleErrors, 'errors')}`,
        met: idle === 0,
      });
    }
  }
  return checks;
}
