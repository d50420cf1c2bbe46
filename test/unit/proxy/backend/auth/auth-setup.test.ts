import { describe, expect, it } from 'vitest';
import { authQueryText } from '../../../../../src/proxy/backend/auth/auth-query.js';
import { authFunctionSignature, authHbaLine, authSetupSql } from '../../../../../src/proxy/backend/auth/auth-setup.js';
import { InvalidSqlName } from '../../../../../src/proxy/backend/auth/sql-identifier.js';

describe('authSetupSql', () => {
  const sql = authSetupSql();

  it('creates a LOGIN role, a superuser-owned schema and a hardened SECURITY DEFINER function', () => {
    expect(sql).toContain('CREATE ROLE "patroni_router_auth" LOGIN;');
    expect(sql).toContain('CREATE SCHEMA IF NOT EXISTS "patroni_router";');
    expect(sql).toMatch(/is not owned by a superuser/);
    expect(sql).toContain('CREATE OR REPLACE FUNCTION "patroni_router".user_secret(p_user name)');
    expect(sql).toContain('SECURITY DEFINER');
    expect(sql).toContain('SET search_path = pg_catalog, pg_temp');
    expect(sql).toContain('FROM pg_catalog.pg_authid AS a');
    expect(sql).toContain('a.rolname, a.rolpassword, a.rolvaliduntil, a.rolcanlogin');
    expect(sql).toContain('AND NOT a.rolsuper');
  });

  it('takes EXECUTE from PUBLIC and gives it and schema USAGE to the auth role only', () => {
    expect(sql).toContain('REVOKE ALL ON FUNCTION "patroni_router".user_secret(name) FROM PUBLIC;');
    expect(sql).toContain('GRANT EXECUTE ON FUNCTION "patroni_router".user_secret(name) TO "patroni_router_auth";');
    expect(sql).toContain('REVOKE ALL ON SCHEMA "patroni_router" FROM PUBLIC;');
    expect(sql).toContain('GRANT USAGE ON SCHEMA "patroni_router" TO "patroni_router_auth";');
    expect(sql.indexOf('REVOKE ALL ON FUNCTION')).toBeLessThan(sql.indexOf('GRANT EXECUTE'));
  });

  it('never contains a password, and says how to set one', () => {
    expect(sql).not.toMatch(/PASSWORD\s+'/i);
    expect(sql).toContain('\\password "patroni_router_auth"');
  });

  it('is parameterised by role and schema, quoted everywhere they appear', () => {
    const custom = authSetupSql({ authRole: 'RouterAuth', schema: 'Router_Schema', includeSuperusers: true });
    expect(custom).toContain('CREATE ROLE "RouterAuth" LOGIN;');
    expect(custom).toContain("WHERE rolname = 'RouterAuth'");
    expect(custom).toContain('"Router_Schema".user_secret(p_user name)');
    expect(custom).not.toContain('patroni_router_auth');
    expect(custom).not.toContain('rolsuper\n');
    expect(custom).not.toContain('AND NOT a.rolsuper');
    expect(authFunctionSignature('Router_Schema')).toBe('"Router_Schema".user_secret(name)');
  });

  it('refuses names that are not plain identifiers', () => {
    for (const bad of ['', 'a b', 'x"; DROP ROLE postgres; --', "o'brien", 'pg_monitor', '1role', 'rôle', 'a'.repeat(64), 'a$b']) {
      expect(() => authSetupSql({ authRole: bad }), bad).toThrow(InvalidSqlName);
      expect(() => authSetupSql({ schema: bad }), bad).toThrow(InvalidSqlName);
      expect(() => authQueryText(bad), bad).toThrow(InvalidSqlName);
    }
    expect(() => authSetupSql({ authRole: 'a'.repeat(63) })).not.toThrow();
  });
});

describe('authQueryText', () => {
  it('is fixed, schema-qualified and takes the user as $1 only', () => {
    expect(authQueryText()).toBe('SELECT username, secret, valid_until, can_login, expires_in FROM "patroni_router".user_secret($1)');
    expect(authQueryText('other')).toContain('"other".user_secret($1)');
  });
});

describe('authHbaLine', () => {
  it('suggests a SCRAM line for the auth role from the router address', () => {
    expect(authHbaLine({ database: 'postgres', address: '10.0.0.5/32' })).toBe('hostssl  "postgres"  "patroni_router_auth"  10.0.0.5/32  scram-sha-256');
    expect(authHbaLine({ database: 'my-app', address: '::1/128', connection: 'host', authRole: 'ra' })).toBe('host  "my-app"  "ra"  ::1/128  scram-sha-256');
  });

  it('refuses what cannot be written in pg_hba', () => {
    for (const address of ['10.0.0.5', '10.0.0.5/33', 'example.com/32', '10.0.0.5/32/1', '::1/129', '10.0.0.5/x']) {
      expect(() => authHbaLine({ database: 'postgres', address }), address).toThrow(InvalidSqlName);
    }
    for (const database of ['', 'a b', 'a,b', 'a"b', 'a\nb']) {
      expect(() => authHbaLine({ database, address: '10.0.0.5/32' }), database).toThrow(InvalidSqlName);
    }
  });
});
