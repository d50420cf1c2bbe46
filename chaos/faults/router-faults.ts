/**
 * The faults that hit the router itself: a primary with no connection slot left, and slow or
 * garbage clients on every listener. The router's answers are judged here, where they are seen.
 */
import { judgeFullPrimaryAnswer, judgeHostileClients } from '../invariants/fault-outcomes.js';
import { CHAOS_LISTENERS } from '../router/router-config.js';
import type { FaultOutcome } from './cluster-faults.js';
import type { FaultContext } from './fault-context.js';
import type { FaultPlan } from './fault-plan.js';
import { askThroughRouter, fillMember } from './full-primary.js';
import { runHostileClients, type HostileOutcome } from './hostile-clients.js';
import { garbagePayload, slowPayload, type HostilePayload } from './hostile-payloads.js';

export async function fullPrimary(_plan: Extract<FaultPlan, { kind: 'full-primary' }>, ctx: FaultContext): Promise<FaultOutcome> {
  const leader = await ctx.cluster.waitForHealthy();
  const filled = await fillMember(ctx.cluster.member(leader), ctx.fillerUser);
  ctx.progress(
    `  ${leader} filled with ${filled.connections} direct connections${filled.refusal ? `, then refused: ${filled.refusal.code ?? '?'} ${filled.refusal.message}` : ''}`,
  );
  const notes = [
    `${filled.connections} direct connections to ${leader}; its refusal: ${filled.refusal ? `${filled.refusal.code ?? 'no code'} "${filled.refusal.message}"` : 'none (the limit was reached first)'}`,
  ];
  try {
    const answer = await askThroughRouter(ctx.ports.primary, ctx.fillerUser, 'primary');
    notes.push(
      answer.ok
        ? `through the router: connected after ${answer.ms} ms (a slot was free again)`
        : `through the router: ${answer.code ?? 'no code'} "${answer.message ?? ''}" after ${answer.ms} ms`,
    );
    const violation = judgeFullPrimaryAnswer(filled.refusal, answer, Date.now());
    if (violation !== undefined) ctx.violations.report(violation.invariant, violation.at, violation.detail);
  } finally {
    await filled.release();
  }
  return { target: leader, notes };
}

function tallyAnswers(outcomes: readonly HostileOutcome[]): string {
  const tally = new Map<string, number>();
  for (const o of outcomes) {
    const key = `${o.variant}: ${o.answer}${o.closedAfterMs === undefined ? ', left open' : ''}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  return [...tally]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n}× ${k}`)
    .join('; ');
}

/** How much later than startup_timeout a close may come: the router's timer and our polling. */
const CLOSE_SLACK_MS = 2_000;

export async function hostileClients(plan: Extract<FaultPlan, { kind: 'slow-clients' | 'garbage-clients' }>, ctx: FaultContext): Promise<FaultOutcome> {
  const draw = plan.kind === 'slow-clients' ? slowPayload : garbagePayload;
  const payloads: HostilePayload<string>[] = Array.from({ length: plan.clients }, () => draw(ctx.random));
  const targets = CHAOS_LISTENERS.map((listener) => ({ listener, port: ctx.ports[listener] }));
  const limitMs = ctx.startupTimeoutMs + CLOSE_SLACK_MS;
  const outcomes = await runHostileClients(targets, payloads, limitMs + 3_000);
  const closed = outcomes.filter((o) => o.closedAfterMs !== undefined).map((o) => o.closedAfterMs as number);
  const violation = judgeHostileClients(plan.kind, outcomes, limitMs, Date.now());
  if (violation !== undefined) ctx.violations.report(violation.invariant, violation.at, violation.detail);
  return {
    target: 'router',
    notes: [
      `${plan.clients} clients on ${targets.length} listeners, closed by the router after ${closed.length > 0 ? `${Math.min(...closed)} to ${Math.max(...closed)} ms` : 'never'}`,
      tallyAnswers(outcomes),
    ],
  };
}
