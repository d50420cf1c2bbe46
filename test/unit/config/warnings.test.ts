import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { configWarnings } from '../../../src/config/warnings.js';

describe('configuration warnings', () => {
  const base = 'scope: a\netcd3: {hosts: x}\n';

  it('warns when clients may choose a route but TLS passes through', () => {
    const warnings = configWarnings(parseConfig(base, 'r.yml', {}));
    // The default replicas listener allows sync and async; the primary listener allows nothing else.
    expect(warnings).toEqual([expect.stringMatching(/^listener replicas: clients may choose a route with patroni_router\.target, but TLS is passed through/)]);
  });

  it('is quiet when the router terminates TLS or no listener allows a choice', () => {
    expect(configWarnings(parseConfig(`${base}tls: {cert: /c.pem, key: /k.pem}\n`, 'r.yml', {}))).toEqual([]);
    expect(configWarnings(parseConfig(`${base}listeners:\n  - {name: p, port: 5000, route: primary}\n`, 'r.yml', {}))).toEqual([]);
  });
});
