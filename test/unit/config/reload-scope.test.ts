import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { settingsNeedingRestart } from '../../../src/config/reload-scope.js';

const base = 'scope: a\netcd3: {hosts: x}\n';
const config = (extra: string) => parseConfig(`${base}${extra}`, 'r.yml', {});

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
