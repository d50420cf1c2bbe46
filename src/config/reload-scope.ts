import type { RouterConfig } from './types.js';

/** What a reload cannot change in a running process (sockets and TLS contexts already made). */
export function settingsNeedingRestart(running: RouterConfig, next: RouterConfig): string[] {
  const differs = (a: unknown, b: unknown): boolean => JSON.stringify(a) !== JSON.stringify(b);
  const out: string[] = [];
  if (differs(running.tls, next.tls)) out.push('tls');
  if (differs(running.auth, next.auth)) out.push('auth');
  if (running.admin.host !== next.admin.host || running.admin.port !== next.admin.port || running.admin.enabled !== next.admin.enabled) out.push('admin address');
  if (running.startupTimeoutMs !== next.startupTimeoutMs) out.push('startup_timeout');
  if (running.authenticationTimeoutMs !== next.authenticationTimeoutMs) out.push('authentication_timeout');
  if (running.targetParameterPrefix !== next.targetParameterPrefix) out.push('target_parameter_prefix');
  if (running.workers !== next.workers) out.push('workers');
  return out;
}
