/**
 * Every error a chaos client saw, with who caused it (test/support/client-error-cause.ts's
 * classification), and the tally the report shows. Pure.
 */
import type { ClassifiedError, ErrorCause } from '../../test/support/client-error-cause.js';

export interface ClientError {
  at: number;
  /** Which load saw it, e.g. "writer/primary", "pgbench/replicas". */
  source: string;
  listener: string;
  code?: string;
  message: string;
  classified: ClassifiedError;
}

export interface CauseTally {
  cause: ErrorCause;
  count: number;
  /** SQLSTATEs seen with this cause ("none" when the client got no code), most frequent first. */
  codes: Array<{ code: string; count: number }>;
  /** One message of this cause, for the reader. */
  example: string;
}

export function tallyByCause(errors: readonly ClientError[]): CauseTally[] {
  const byCause = new Map<ErrorCause, ClientError[]>();
  for (const e of errors) byCause.set(e.classified.cause, [...(byCause.get(e.classified.cause) ?? []), e]);
  return [...byCause.entries()]
    .map(([cause, list]) => {
      const codes = new Map<string, number>();
      for (const e of list) codes.set(e.code ?? 'none', (codes.get(e.code ?? 'none') ?? 0) + 1);
      return {
        cause,
        count: list.length,
        codes: [...codes.entries()].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
        example: list[0]?.message ?? '',
      };
    })
    .sort((a, b) => b.count - a.count || a.cause.localeCompare(b.cause));
}
