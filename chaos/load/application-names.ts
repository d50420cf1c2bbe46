/**
 * Every connection the chaos run opens names itself `chaos/<listener>/<what>` in
 * application_name, so pg_stat_activity on a member says which listener (or `direct`) each
 * backend came through: the truth the router's session gauges are compared with.
 */
const PREFIX = 'chaos/';

export function applicationName(listener: string, what: string): string {
  return `${PREFIX}${listener}/${what}`;
}

/** The listener an application_name says it came through; undefined for anyone else's. */
export function listenerOfApplicationName(name: string): string | undefined {
  if (!name.startsWith(PREFIX)) return undefined;
  const listener = name.slice(PREFIX.length).split('/')[0];
  return listener === undefined || listener === '' ? undefined : listener;
}
