import type { PreparedStatementVerdicts } from '../../sql/prepared-statements.js';
import type { PrimaryReason, StatementVerdict } from '../../sql/statement-verdict.js';
import type { ClientUnit } from './client-units.js';

export type LinkName = 'primary' | 'replica';

/** Why a unit went where it went: a small set, for metrics and /topology. */
export type UnitReason =
  | 'read'
  /** Why a statement of the unit needs the primary: the classifier's own word (write, locking, nextval's stateful-function, ...). */
  | PrimaryReason
  /** A replica answered 25006 to this text once: it runs on the primary from then on. */
  | 'replica-refused'
  | 'transaction'
  | 'pinned'
  | 'consistency'
  | 'no-replica'
  | 'open-unit'
  | 'function-call'
  | 'unknown-prepared';

/** Every field always present (undefined when not so): one shape for every unit, not a megamorphic load per field. */
export interface UnitRoutingContext {
  classify(text: string): StatementVerdict;
  prepared: PreparedStatementVerdicts;
  /** The link holding an open transaction (its last ReadyForQuery said T or E). */
  transactionOn: LinkName | undefined;
  /** A unit that ended with Flush and has not seen its Sync: the rest follows it. */
  openUnitOn: LinkName | undefined;
  /** Why the session no longer uses a replica (a pin), when it does not. */
  pinned: string | undefined;
  /** Whether the replica may serve this session's reads now; a reason when not. Asked only of a unit the replica could take. */
  replicaReady(): true | { why: 'consistency' | 'no-replica' };
  /** `SET default_transaction_read_only = on` is in force: a plain BEGIN starts a read-only transaction. */
  readOnlyByDefault: boolean;
}

export interface UnitDecision {
  link: LinkName;
  reason: UnitReason;
  /** The verdicts of the unit's statements, in order: their effects are the session's to follow. */
  verdicts: StatementVerdict[];
}

/**
 * Where one unit goes (pure). An open transaction keeps its link whole; a pin keeps the session
 * on the primary; otherwise a unit goes to the replica only when every statement in it is safe
 * there and the session's consistency allows it, and everything uncertain goes to the primary.
 */
export function routeUnit(unit: ClientUnit, ctx: UnitRoutingContext): UnitDecision {
  const found = verdictsOf(unit, ctx);
  const known = found ?? [];
  if (ctx.openUnitOn !== undefined) return { link: ctx.openUnitOn, reason: 'open-unit', verdicts: known };
  if (ctx.transactionOn !== undefined) return { link: ctx.transactionOn, reason: 'transaction', verdicts: known };
  if (unit.kind === 'function-call') return { link: 'primary', reason: 'function-call', verdicts: known };
  if (unit.kind === 'terminate') return { link: 'primary', reason: 'session-state', verdicts: known };
  if (found === undefined) return { link: 'primary', reason: 'unknown-prepared', verdicts: known };
  const verdicts = found;
  // A plain BEGIN under default_transaction_read_only = on starts a read-only transaction.
  if (ctx.readOnlyByDefault && verdicts.some(isPlainBegin) && verdicts.every((v) => v.anyLink || isPlainBegin(v) || v.destination === 'replica')) return toReplica(ctx, verdicts);
  if (verdicts.length === 0 || verdicts.every((v) => v.anyLink)) return { link: 'primary', reason: 'session-state', verdicts };
  const needsPrimary = verdicts.find((v) => v.destination === 'primary' && !v.anyLink);
  if (needsPrimary !== undefined) return { link: 'primary', reason: needsPrimary.reason === 'read-only' ? 'write' : needsPrimary.reason, verdicts };
  return toReplica(ctx, verdicts);
}

/** BEGIN / START TRANSACTION saying nothing of access (and not SERIALIZABLE, which a standby refuses), alone in its text. */
function isPlainBegin(v: StatementVerdict): boolean {
  return v.statementCount === 1 && v.effects.some((e) => e.kind === 'begin' && e.access === undefined && e.isolation !== 'serializable');
}

function toReplica(ctx: UnitRoutingContext, verdicts: StatementVerdict[]): UnitDecision {
  if (ctx.pinned !== undefined) return { link: 'primary', reason: 'pinned', verdicts };
  const ready = ctx.replicaReady();
  if (ready !== true) return { link: 'primary', reason: ready.why, verdicts };
  return { link: 'replica', reason: 'read', verdicts };
}

/** The verdicts of a unit's statements; undefined when it binds a statement the session never prepared here. */
function verdictsOf(unit: ClientUnit, ctx: UnitRoutingContext): StatementVerdict[] | undefined {
  switch (unit.kind) {
    case 'query':
      return [ctx.classify(unit.text)];
    case 'extended': {
      const out: StatementVerdict[] = [];
      const parsedHere = new Map<string, StatementVerdict>();
      for (const p of unit.parses) {
        const verdict = ctx.classify(p.text);
        parsedHere.set(p.statement, verdict);
        out.push(verdict);
      }
      for (const name of unit.boundStatements) {
        if (parsedHere.has(name)) continue;
        const known = ctx.prepared.verdictOf(name);
        if (known === undefined) return undefined;
        out.push(known);
      }
      return out;
    }
    default:
      return [];
  }
}
