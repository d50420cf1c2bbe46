import type { RouterConfig } from './types.js';

/**
 * Settings that are valid but will not do what the operator probably means; printed by
 * `check-config` and logged at start.
 */
export function configWarnings(config: RouterConfig): string[] {
  const warnings: string[] = [];
  const terminating = config.tls.cert !== undefined;
  for (const l of config.listeners) {
    if (!terminating && l.allowedTargets.some((t) => t !== l.route)) {
      warnings.push(
        `listener ${l.name}: clients may choose a route with ${config.targetParameterPrefix}.target, but TLS is passed through, so the router ` +
          'cannot read the startup of a client that asks for TLS (libpq sslmode=prefer, the default, does): set tls.cert and tls.key to terminate TLS, or have such clients use sslmode=disable',
      );
    }
  }
  return warnings;
}
