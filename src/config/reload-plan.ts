import type { ListenerConfig, RouterConfig } from './types.js';

/**
 * What a reload does, decided in one place from the running configuration and the file's:
 * which listeners change, which clusters get a new follower, what only a restart applies, and
 * the configuration that runs afterwards. Pure: the router and every worker act on it.
 */

export interface ListenerChanges {
  added: string[];
  removed: string[];
  /** Changed: the old listener stops accepting (its sessions run on), a new one takes its name. */
  restarted: string[];
  unchanged: string[];
}

export interface ClusterChanges {
  added: string[];
  removed: string[];
  /** DCS settings changed: a new follower takes over once it has read the topology. */
  replaced: string[];
}

export interface ReloadPlan {
  listeners: ListenerChanges;
  clusters: ClusterChanges;
  /** Set when the reload cannot be applied at all (the followed clusters changed): why. */
  refusal?: string;
  /** Settings that changed in the file but apply only after a restart. */
  notApplied: string[];
  /** The file's configuration with what only a restart changes kept as running. */
  effective: RouterConfig;
}

const differs = (a: unknown, b: unknown): boolean => JSON.stringify(a) !== JSON.stringify(b);

/** A setting a running process cannot change (sockets, TLS contexts and workers already made): its name, and how to keep it. */
interface RestartOnly {
  name: string;
  changed(running: RouterConfig, next: RouterConfig): boolean;
  /** `config` with the running value of this setting. */
  keep(config: RouterConfig, running: RouterConfig): RouterConfig;
}

/** The one list of what a reload leaves as running. */
const RESTART_ONLY: readonly RestartOnly[] = [
  { name: 'tls', changed: (r, n) => differs(r.tls, n.tls), keep: (c, r) => ({ ...c, tls: r.tls }) },
  {
    name: 'auth',
    changed: (r, n) => differs(r.auth, n.auth),
    keep: (c, r) => {
      const { auth: _fileAuth, ...rest } = c;
      return r.auth !== undefined ? { ...rest, auth: r.auth } : rest;
    },
  },
  {
    name: 'admin address',
    changed: (r, n) => r.admin.host !== n.admin.host || r.admin.port !== n.admin.port || r.admin.enabled !== n.admin.enabled,
    // The admin server keeps its socket; its token follows the file.
    keep: (c, r) => {
      const admin = { ...r.admin };
      if (c.admin.token === undefined) delete admin.token;
      else admin.token = c.admin.token;
      return { ...c, admin };
    },
  },
  { name: 'startup_timeout', changed: (r, n) => r.startupTimeoutMs !== n.startupTimeoutMs, keep: (c, r) => ({ ...c, startupTimeoutMs: r.startupTimeoutMs }) },
  {
    name: 'authentication_timeout',
    changed: (r, n) => r.authenticationTimeoutMs !== n.authenticationTimeoutMs,
    keep: (c, r) => ({ ...c, authenticationTimeoutMs: r.authenticationTimeoutMs }),
  },
  {
    name: 'target_parameter_prefix',
    changed: (r, n) => r.targetParameterPrefix !== n.targetParameterPrefix,
    keep: (c, r) => ({ ...c, targetParameterPrefix: r.targetParameterPrefix }),
  },
  { name: 'workers', changed: (r, n) => r.workers !== n.workers, keep: (c, r) => ({ ...c, workers: r.workers }) },
];

/** What a reload cannot change in a running process, by name. */
export function settingsNeedingRestart(running: RouterConfig, next: RouterConfig): string[] {
  return RESTART_ONLY.filter((s) => s.changed(running, next)).map((s) => s.name);
}

/**
 * The listeners to add, stop, restart (any setting changed) and leave alone, in the order of
 * `running` and then of `next`.
 */
export function listenerChanges(running: readonly ListenerConfig[], next: readonly ListenerConfig[]): ListenerChanges {
  const changes: ListenerChanges = { added: [], removed: [], restarted: [], unchanged: [] };
  const wanted = new Map(next.map((c) => [c.name, c]));
  const runningNames = new Set(running.map((c) => c.name));
  for (const config of running) {
    const replacement = wanted.get(config.name);
    if (replacement === undefined) changes.removed.push(config.name);
    else if (differs(config, replacement)) changes.restarted.push(config.name);
    else changes.unchanged.push(config.name);
  }
  for (const config of next) if (!runningNames.has(config.name) && !changes.added.includes(config.name)) changes.added.push(config.name);
  return changes;
}

/** Clusters by scope: added and removed (a reload cannot apply either), replaced when their DCS settings differ. */
export function clusterChanges(running: RouterConfig, next: RouterConfig): ClusterChanges {
  const before = new Map(running.clusters.map((c) => [c.scope, c]));
  const after = new Set(next.clusters.map((c) => c.scope));
  const added = next.clusters.map((c) => c.scope).filter((s) => !before.has(s));
  const removed = running.clusters.map((c) => c.scope).filter((s) => !after.has(s));
  const replaced = next.clusters.filter((c) => before.has(c.scope) && differs(before.get(c.scope), c)).map((c) => c.scope);
  return { added: [...new Set(added)], removed, replaced };
}

export function reloadPlan(running: RouterConfig, next: RouterConfig): ReloadPlan {
  const clusters = clusterChanges(running, next);
  const effective = RESTART_ONLY.reduce((config, setting) => setting.keep(config, running), next);
  const plan: ReloadPlan = { listeners: listenerChanges(running.listeners, effective.listeners), clusters, notApplied: settingsNeedingRestart(running, next), effective };
  if (clusters.added.length > 0 || clusters.removed.length > 0) {
    const names = (list: string[]): string => list.join(', ') || 'none';
    plan.refusal = `the followed clusters changed (added: ${names(clusters.added)}; removed: ${names(clusters.removed)}): restart the router to apply that`;
  }
  return plan;
}
