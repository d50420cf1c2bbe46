import type { RouteRequest } from './route-request.js';

/**
 * The fallback route is judged without the listener's tag filter: `route: replica, tags:
 * {datacenter: dc1}, fallback: primary` means "a dc1 replica, else the primary", wherever the
 * primary is. The lag limit still applies (it only concerns replicas).
 */
export function fallbackRequest<R extends Pick<RouteRequest, 'tags'>>(request: R): R {
  return { ...request, tags: {} };
}
