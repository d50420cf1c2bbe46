/**
 * Why a session could not move to the new primary, in the words its 57P01 message uses. The
 * codes are SessionState's pins and move blockers, SplitRelay's boundary checks and the
 * session's own (no secret to log in again): one table, so metrics labels and messages agree.
 */
const WORDS: Readonly<Record<string, string>> = {
  'open-transaction': 'a transaction was open',
  'query-running': 'a query was running',
  'copy-running': 'a COPY was running',
  'temp-object': 'it has a temporary table (or view, or sequence)',
  listen: 'it listens for notifications (LISTEN)',
  'advisory-lock': 'it holds a session advisory lock',
  'advisory-xact-lock': 'it holds a transaction advisory lock',
  'hold-cursor': 'it has a WITH HOLD cursor',
  role: 'it ran SET ROLE',
  'session-authorization': 'it ran SET SESSION AUTHORIZATION',
  load: 'it loaded a library (LOAD)',
  'set-config': 'set_config() changed a setting the router cannot replay',
  setseed: 'it seeded random() (setseed)',
  'non-standard-strings': 'standard_conforming_strings is off',
  'client-encoding': 'it uses a client-only encoding',
  'sequence-state': 'it called nextval() or setval(), so currval() and lastval() would differ',
  procedural: 'it ran DO or CALL, whose effects the router cannot see',
  'unknown-effects': 'it ran a statement the router could not examine',
  'replay-limit': 'it has more session state than the router replays',
  'replay-failed': 'its settings could not be replayed on another link',
  'search-path-after-prepare': 'search_path changed after statements were prepared',
  'no-secret': 'the router cannot log in again as its user',
  'move-off': 'move_sessions is off for this listener',
};

/** The sentence for a code; a code the table does not know is shown as it is. */
export function moveReasonWords(code: string): string {
  return WORDS[code] ?? code;
}
