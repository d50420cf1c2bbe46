/**
 * No leaked backends. Pure. Once every chaos client has stopped, the client backends left on
 * a member may only be Patroni's own connection and the router's internal ones, each named by
 * its application_name; anything else (a chaos client's backend, or one with no name, as a
 * backend forked for a client's SSLRequest has) is a leak.
 */
import type { Backend, BackendCensus } from '../observe/backend-census.js';

/** application_name of the connections that are meant to stay, and whose they are. */
export const EXPECTED_BACKENDS: Readonly<Record<string, string>> = {
  Patroni: "Patroni's own connection",
  'patroni-router auth_query': "the router's auth_query (split and moving sessions log in with it)",
  'patroni-router replay positions': "the router's replay-position reader (split read-your-writes)",
  'patroni-router function catalog': "the router's function catalog reader (split classifier)",
};

export interface LeakedBackend {
  member: string;
  backend: Backend;
}

export interface BackendVerdict {
  /** Per member, the expected backends by application_name. */
  expected: Record<string, Record<string, number>>;
  leaked: LeakedBackend[];
  /** Members that did not answer. */
  unread: string[];
}

export function judgeBackends(census: BackendCensus): BackendVerdict {
  const verdict: BackendVerdict = { expected: {}, leaked: [], unread: [] };
  for (const [member, backends] of Object.entries(census)) {
    if (backends === undefined) {
      verdict.unread.push(member);
      continue;
    }
    const expected: Record<string, number> = {};
    for (const b of backends) {
      if (b.applicationName in EXPECTED_BACKENDS) expected[b.applicationName] = (expected[b.applicationName] ?? 0) + 1;
      else verdict.leaked.push({ member, backend: b });
    }
    verdict.expected[member] = expected;
  }
  return verdict;
}

export function describeLeak(l: LeakedBackend, now: number): string {
  const b = l.backend;
  return `${l.member} pid ${b.pid} "${b.applicationName}" user ${b.user || '?'} state ${b.state || '(startup)'} for ${Math.round((now - b.backendStartMs) / 1000)} s${b.query ? `: ${b.query}` : ''}`;
}
