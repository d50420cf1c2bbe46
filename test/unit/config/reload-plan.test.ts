import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { listenerChanges, reloadPlan, settingsNeedingRestart } from '../../../src/config/reload-plan.js';

const base = 'scope: a\netcd3: {hosts: x}\n';
const config = (extra: string) => parseConfig(`${base}${extra}`, 'r.yml', {});
const twoClusters = (bHosts: string, extra = '') =>
  parseConfig(
    `clusters:\n  - {scope: a, etcd3: {hosts: x}}\n  - {scope: b, etcd3: {hosts: ${bHosts}}}\nlisteners:\n  - {name: p, port: 5000, route: primary, cluster: a}\n${extra}`,
    'r.yml',
    {},
  );

describe('what a reload cannot apply', () => {
  it('is nothing for listener, timeout and token changes', () => {
    expect(settingsNeedingRestart(config(''), config('drain_timeout: 5s\nadmin: {token: t}\nlisteners:\n  - {name: p, port: 6000, route: primary}\n'))).toEqual([]);
  });

  it('names TLS, the admin address, startup_timeout and the target prefix', () => {
    expect(settingsNeedingRestart(config(''), config('tls: {cert: /c, key: /k}\nadmin: {port: 7001}\nstartup_timeout: 3s\ntarget_parameter_prefix: pr\n'))).toEqual([
      'tls',
      'admin address',
      'startup_timeout',
      'target_parameter_prefix',
    ]);
  });
});

describe('the reload plan', () => {
  it('keeps what only a restart changes as running, and takes the rest from the file', () => {
    const running = config('');
    const plan = reloadPlan(running, config('tls: {cert: /c, key: /k}\nadmin: {port: 7001, token: t}\nstartup_timeout: 3s\ndrain_timeout: 5s\nlog: {level: debug}\nworkers: 2\n'));
    expect(plan.notApplied).toEqual(['tls', 'admin address', 'startup_timeout', 'workers']);
    expect(plan.effective.tls).toEqual(running.tls);
    expect(plan.effective.startupTimeoutMs).toBe(running.startupTimeoutMs);
    expect(plan.effective.workers).toBe(running.workers);
    expect(plan.effective.admin).toEqual({ ...running.admin, token: 't' });
    expect(plan.effective.drainTimeoutMs).toBe(5000);
    expect(plan.effective.log.level).toBe('debug');
    expect(plan.refusal).toBeUndefined();
  });

  it('lets the admin token go when the file drops it', () => {
    const plan = reloadPlan(config('admin: {token: t}\n'), config(''));
    expect(plan.effective.admin.token).toBeUndefined();
    expect(plan.notApplied).toEqual([]);
  });

  it('names the listeners added, removed, restarted and left alone', () => {
    const running = config('listeners:\n  - {name: p, port: 6000, route: primary}\n  - {name: r, port: 6001, route: replica}\n  - {name: s, port: 6002, route: replica}\n');
    const next = config(
      'listeners:\n  - {name: p, port: 6000, route: primary}\n  - {name: r, port: 6001, route: replica, max_clients: 7}\n  - {name: t, port: 6003, route: replica}\n',
    );
    expect(reloadPlan(running, next).listeners).toEqual({ added: ['t'], removed: ['s'], restarted: ['r'], unchanged: ['p'] });
    expect(listenerChanges(running.listeners, running.listeners)).toEqual({ added: [], removed: [], restarted: [], unchanged: ['p', 'r', 's'] });
  });

  it('replaces the follower of a cluster whose DCS settings changed', () => {
    const plan = reloadPlan(twoClusters('y'), twoClusters('z'));
    expect(plan.clusters).toEqual({ added: [], removed: [], replaced: ['b'] });
    expect(plan.refusal).toBeUndefined();
  });

  it('refuses a reload that adds or removes a followed cluster', () => {
    const plan = reloadPlan(
      twoClusters('y'),
      parseConfig(
        'clusters:\n  - {scope: a, etcd3: {hosts: x}}\n  - {scope: c, etcd3: {hosts: y}}\nlisteners:\n  - {name: p, port: 5000, route: primary, cluster: a}\n',
        'r.yml',
        {},
      ),
    );
    expect(plan.clusters).toMatchObject({ added: ['c'], removed: ['b'] });
    expect(plan.refusal).toBe('the followed clusters changed (added: c; removed: b): restart the router to apply that');
  });
});
