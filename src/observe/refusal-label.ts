/**
 * A short, bounded label for why the router refused a client, for the
 * `connections_refused_total{reason}` metric. The full sentence goes to the log and /events;
 * a metric label must stay a small set, so unknown codes are folded into `other`.
 */
export type RefusalLabel =
  | 'no_candidate'
  | 'hold_timeout'
  | 'bad_startup'
  | 'startup_timeout'
  | 'target_not_allowed'
  | 'backend_unreachable'
  | 'cluster_unknown'
  | 'shutdown'
  | 'other';

export function refusalLabel(sqlstate: string, reason: string): RefusalLabel {
  switch (sqlstate) {
    case '57P03':
      return / \(waited [^)]*\)$/.test(reason) ? 'hold_timeout' : 'no_candidate';
    case '57P01':
      return 'shutdown';
    case '08P01':
      return reason.includes('startup packet timeout') ? 'startup_timeout' : 'bad_startup';
    case '28000':
    case '0A000':
      return 'bad_startup';
    case '42704':
    case '08004':
      return 'target_not_allowed';
    case '08006':
      return reason.includes('is not followed by this router') ? 'cluster_unknown' : 'backend_unreachable';
    default:
      return 'other';
  }
}
