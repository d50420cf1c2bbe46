/** What the router must do during a fault that targets it directly. Pure. */
import type { HostileOutcome } from '../faults/hostile-clients.js';
import type { MemberRefusal, RouterAnswer } from '../faults/full-primary.js';
import type { Violation } from './violations.js';

/** A refusal is prompt when it comes well before any hold or queue timeout would end it. */
export const PROMPT_REFUSAL_MS = 3_000;

/**
 * PostgreSQL's words for a connection it has no slot for (53300): which one a connection
 * gets depends on how many slots are taken at that instant (all of them, or all but the
 * superusers' reserve), so the router's connection may hear the other one than the filler did.
 */
const NO_SLOT_MESSAGES = [/^sorry, too many clients already$/, /^remaining connection slots are reserved for /];

/**
 * A member with no room left answers 53300 itself; the router must pass that on at once,
 * code and PostgreSQL's own message, rather than hold the client and retry or answer in its
 * own words. `undefined` when the member never filled up or the router's connection got in
 * (a slot freed meanwhile): nothing to judge.
 */
export function judgeFullPrimaryAnswer(member: MemberRefusal | undefined, router: RouterAnswer, at: number): Violation | undefined {
  if (member?.code !== '53300' || router.ok) return undefined;
  const problems: string[] = [];
  if (router.code !== '53300') problems.push(`code ${router.code ?? 'none'}`);
  const message = router.message ?? '';
  if (message !== member.message && !NO_SLOT_MESSAGES.some((m) => m.test(message))) problems.push(`message "${message}"`);
  if (router.ms > PROMPT_REFUSAL_MS) problems.push(`after ${router.ms} ms`);
  if (problems.length === 0) return undefined;
  return { invariant: 'full-primary-answer', at, detail: `the member said 53300 "${member.message}"; through the router: ${problems.join(', ')}` };
}

/**
 * Every hostile client closed by the router within `limitMs` of connecting, or of the router's
 * answer to it: an SSLRequest passed through waits for a member to answer S first, and that
 * wait is the router's hold for a member (bounded by hold_timeout), not the client's silence.
 */
export function judgeHostileClients(kind: string, outcomes: readonly HostileOutcome[], limitMs: number, at: number): Violation | undefined {
  const silentFor = (o: HostileOutcome): number | undefined => (o.closedAfterMs === undefined ? undefined : o.closedAfterMs - Math.min(o.answeredAfterMs ?? 0, o.closedAfterMs));
  const kept = outcomes.filter((o) => o.closedAfterMs === undefined || (o.closedAfterMs > limitMs && (silentFor(o) as number) > limitMs));
  if (kept.length === 0) return undefined;
  const byVariant = new Map<string, number>();
  for (const o of kept) byVariant.set(`${o.variant} on ${o.listener}`, (byVariant.get(`${o.variant} on ${o.listener}`) ?? 0) + 1);
  const list = [...byVariant.entries()].map(([v, n]) => `${n}× ${v}`).join(', ');
  return { invariant: 'hostile-client-kept', at, detail: `${kept.length} of ${outcomes.length} ${kind} still open after ${limitMs / 1000} s: ${list}` };
}
