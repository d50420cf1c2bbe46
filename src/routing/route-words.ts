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
    case 'read-only':
      return 'readable member';
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
  'read-only',
  'standby-leader',
  'any',
];
