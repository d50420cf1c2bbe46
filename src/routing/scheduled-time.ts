/**
 * How much earlier than the time of an action Patroni has scheduled (a switchover, a restart)
 * the router treats it as due. Patroni sleeps until that time and then acts at once, writing
 * nothing to the DCS first; the router's clock and the primary's may differ a little, and a
 * pause begun this much early costs the sessions at most this much more wait.
 */
export const SCHEDULED_ACTION_LEAD_MS = 500;

/** Milliseconds until a scheduled time is due (0 or less: due now), the lead taken off; undefined for no time or an unreadable one. */
export function scheduledDueIn(at: string | undefined, now: number): number | undefined {
  if (at === undefined) return undefined;
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? undefined : ms - SCHEDULED_ACTION_LEAD_MS - now;
}
