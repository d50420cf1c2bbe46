import { checkedDatabaseName, checkedHbaAddress, checkedName, quoteIdentifier, quoteLiteral } from './sql-identifier.js';

export const DEFAULT_AUTH_ROLE = 'patroni_router_auth';
export const DEFAULT_AUTH_SCHEMA = 'patroni_router';
export const AUTH_FUNCTION = 'user_secret';

export interface AuthSetupOptions {
  /** The LOGIN role the router connects as to run the auth query. */
  authRole?: string;
  /** The schema that holds the function; owned by the superuser who runs the setup. */
  schema?: string;
  /**
   * Also return the secrets of superusers. Off by default: an md5 hash is password-equivalent, so
   * a compromised router host could otherwise fetch a superuser's hash and log in as them.
   */
  includeSuperusers?: boolean;
}

/** `"patroni_router".user_secret(name)`: how GRANT and REVOKE name the function. */
export function authFunctionSignature(schema: string = DEFAULT_AUTH_SCHEMA): string {
  return `${quoteIdentifier(checkedName(schema, 'schema'))}.${AUTH_FUNCTION}(name)`;
}

/**
 * The SQL an operator runs once, as a superuser, on the primary (it replicates), in the database
 * the router's auth role connects to (pg_authid is shared, so one database is enough). Safe to
 * run again. It does not set the auth role's password, so that no password lands in a file,
 * psql's history or the server log: afterwards, in psql, `\password <role>`.
 *
 * Why it is shaped so:
 * - SECURITY DEFINER lets the auth role read pg_authid through this one function only; the
 *   function runs with `search_path = pg_catalog, pg_temp`, so no object a user creates can stand
 *   in for what it calls (the usual SECURITY DEFINER hole), and the router calls it schema-qualified.
 * - The schema belongs to a superuser: whoever owns it could replace the function.
 * - EXECUTE is revoked from PUBLIC (functions are executable by everyone by default) and granted
 *   to the auth role only.
 * - It returns rolcanlogin and rolvaliduntil, and how long until the latter by the server's clock,
 *   so the router never treats a NOLOGIN or expired role as usable.
 */
export function authSetupSql(options: AuthSetupOptions = {}): string {
  const role = checkedName(options.authRole ?? DEFAULT_AUTH_ROLE, 'auth role');
  const schema = checkedName(options.schema ?? DEFAULT_AUTH_SCHEMA, 'schema');
  const roleId = quoteIdentifier(role);
  const schemaId = quoteIdentifier(schema);
  const fn = authFunctionSignature(schema);
  const superusers = options.includeSuperusers === true ? '' : '\n    AND NOT a.rolsuper';
  return `-- patroni-router auth_query setup: run as a superuser on the primary.
BEGIN;

DO $setup$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER) THEN
    RAISE EXCEPTION 'run the patroni-router setup as a superuser: its function reads pg_authid';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(role)}) THEN
    CREATE ROLE ${roleId} LOGIN;
  END IF;
  IF EXISTS (SELECT FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
             WHERE n.nspname = ${quoteLiteral(schema)} AND NOT r.rolsuper) THEN
    RAISE EXCEPTION 'schema % exists and is not owned by a superuser', ${quoteLiteral(schema)};
  END IF;
END
$setup$;

CREATE SCHEMA IF NOT EXISTS ${schemaId};
REVOKE ALL ON SCHEMA ${schemaId} FROM PUBLIC;
GRANT USAGE ON SCHEMA ${schemaId} TO ${roleId};

CREATE OR REPLACE FUNCTION ${schemaId}.${AUTH_FUNCTION}(p_user name)
  RETURNS TABLE (username name, secret text, valid_until timestamptz, can_login boolean, expires_in double precision)
  LANGUAGE sql STABLE STRICT SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $function$
  SELECT a.rolname, a.rolpassword, a.rolvaliduntil, a.rolcanlogin,
         (CASE WHEN a.rolvaliduntil IS NULL OR a.rolvaliduntil = 'infinity' THEN NULL
               WHEN a.rolvaliduntil = '-infinity' THEN -1
               ELSE EXTRACT(EPOCH FROM a.rolvaliduntil - statement_timestamp()) END)::double precision
  FROM pg_catalog.pg_authid AS a
  WHERE a.rolname = p_user${superusers}
$function$;

REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${fn} TO ${roleId};

COMMIT;

-- Then give ${role} a password (psql sends a SCRAM verifier, not the password):
--   \\password ${roleId}
`;
}

export interface AuthHbaOptions {
  /** The database the router's auth connection opens. */
  database: string;
  /** The router's address as the members see it, with a prefix: 10.0.0.5/32. */
  address: string;
  authRole?: string;
  /** `hostssl` unless the router reaches the members without TLS. */
  connection?: 'hostssl' | 'host';
}

/** The pg_hba.conf line to put above broader lines: the auth role, from the router only, with SCRAM. */
export function authHbaLine(options: AuthHbaOptions): string {
  const role = checkedName(options.authRole ?? DEFAULT_AUTH_ROLE, 'auth role');
  const database = checkedDatabaseName(options.database);
  const address = checkedHbaAddress(options.address);
  return `${options.connection ?? 'hostssl'}  ${quoteIdentifier(database)}  ${quoteIdentifier(role)}  ${address}  scram-sha-256`;
}
