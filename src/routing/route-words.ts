import type { RouteKind } from '../config/types.js';

/** What a route hands out, as a noun for "no <noun> in cluster batman: ...". */
export function routeNoun(route: RouteKind): string {
  switch (route) {
    case 'primary':
      return 'primary';
    case 'replica':
      return 'replica';
    case 'sync':
      return 'sync standby';
    case 'async':
      return 'async replica';
    case 'quorum':
      return 'quorum standby';
    case 'read-only':
      return 'readable member';
    case 'read-only-sync':
      return 'primary or sync standby';
    case 'read-only-quorum':
      return 'primary or quorum standby';
    case 'leader':
      return 'leader';
    case 'standby-leader':
      return 'standby leader';
    case 'any':
      return 'usable member';
  }
}

/** Every route name, in the order users meet them in the docs. */
export const ROUTE_KINDS: readonly RouteKind[] = [
  'primary',
  'replica',
  'sync',
  'async',
  'quorum',
  'read-only',
  'read-only-sync',
  'read-only-quorum',
  'leader',
  'standby-leader',
  'any',
];
