/**
 * The configuration file's shape, in the words operators already use: Patroni's DCS block
 * (`scope`, `namespace`, `etcd3`/`etcd` with `hosts`, `protocol`, `username`, ...) and
 * HAProxy-like listeners. Validation only; normalisation to RouterConfig is in normalise.ts.
 */
import { z } from 'zod';
import { MAX_WORKERS } from '../proxy/cancel-registry.js';
import { parseDurationMs, parseSizeBytes } from './units.js';

const ROUTES = ['primary', 'replica', 'sync', 'async', 'quorum', 'read-only', 'read-only-sync', 'read-only-quorum', 'leader', 'standby-leader', 'any'] as const;

const duration = z.union([z.number(), z.string()]).refine((v) => parseDurationMs(v) !== undefined, {
  message: 'expected a duration: seconds as a number, or a string such as "500ms", "30s", "2m"',
});

const size = z.union([z.number(), z.string()]).refine((v) => parseSizeBytes(v) !== undefined, {
  message: 'expected a size: bytes as a number, or a string such as "16MB", "512kB"',
});

/** A secret may be given inline, from an environment variable, or from a file. */
function secret<K extends string>(name: K) {
  return {
    [name]: z.string().optional(),
    [`${name}_env`]: z.string().optional(),
    [`${name}_file`]: z.string().optional(),
  } as Record<K | `${K}_env` | `${K}_file`, z.ZodOptional<z.ZodString>>;
}

const WORKERS_EXPECTED = `expected \`auto\` or a whole number from 1 to ${MAX_WORKERS}`;

const hostList = z.union([z.string(), z.array(z.string()).nonempty()]);

/** Patroni's `etcd3:` and `etcd:` sections, field for field. */
export const etcdSectionSchema = z
  .object({
    host: z.string().optional(),
    hosts: hostList.optional(),
    url: z.string().optional(),
    protocol: z.enum(['http', 'https']).optional(),
    username: z.string().optional(),
    ...secret('password'),
    cacert: z.string().optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
  })
  .strict()
  .refine((v) => v.host !== undefined || v.hosts !== undefined || v.url !== undefined, {
    message: 'needs `hosts` (or `host`/`url`), as in Patroni',
  });

export const topologySchema = z
  .object({
    resync_interval: duration.default('5s'),
    probe_interval: duration.default('1s'),
    probe_timeout: duration.default('800ms'),
    dcs_loss_writes: z.enum(['ttl', 'rest', 'refuse']).default('ttl'),
    rest_tls: z
      .object({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional(), verify: z.boolean().default(true) })
      .strict()
      .refine((v) => (v.cert === undefined) === (v.key === undefined), { message: '`cert` and `key` go together' })
      .optional(),
  })
  .strict();

export const clusterSchema = z
  .object({
    scope: z.string().min(1),
    namespace: z.string().default('/service/'),
    etcd3: etcdSectionSchema.optional(),
    etcd: etcdSectionSchema.optional(),
    rest: z
      .object({ urls: z.array(z.string().url()).nonempty() })
      .strict()
      .optional(),
    topology: topologySchema.optional(),
  })
  .strict()
  .refine((v) => [v.etcd3, v.etcd, v.rest].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of `etcd3` (v3 API), `etcd` (v2 API) or `rest` (Patroni REST only)',
  });

export const listenerSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "-" and "." only'),
    cluster: z.string().optional(),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(1).max(65535),
    /** `split`: one endpoint, reads to a replica and writes to the primary, statement by statement. */
    route: z.enum([...ROUTES, 'split']),
    tags: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    max_lag: size.optional(),
    max_lag_recovery: duration.default('10s'),
    max_lag_fence_after: z.union([z.literal('off'), duration]).default('30s'),
    max_lag_fence_busy: z.boolean().default(true),
    balance: z.enum(['round-robin', 'least-connections', 'random']).default('round-robin'),
    fallback: z.enum(ROUTES).optional(),
    hold_timeout: z.union([z.literal('auto'), duration]).default('auto'),
    connect_timeout: duration.default('5s'),
    fence: z.boolean().default(true),
    allow_targets: z.array(z.enum(ROUTES)).optional(),
    maxconn: z.number().int().min(1).optional(),
    queue_timeout: duration.default('5s'),
    max_clients: z.number().int().min(1).default(5000),
    links: z.boolean().default(false),
    /** Sessions follow the primary through switchovers, restarts and failovers; default on with an `auth:` section. */
    move_sessions: z.boolean().optional(),
    move_timeout: z.union([z.literal('auto'), duration]).default('auto'),
    split: z
      .object({
        consistency: z.enum(['read-your-writes', 'eventual']).default('read-your-writes'),
        replica_route: z.enum(['replica', 'sync', 'async', 'quorum']).default('replica'),
        safe_functions: z.array(z.string().min(1)).default([]),
        catalog_refresh: duration.default('60s'),
        replay_poll: duration.default('50ms'),
        replica_wait: duration.default('50ms'),
      })
      .strict()
      .optional(),
  })
  .strict();

export const tlsSchema = z
  .object({
    cert: z.string().optional(),
    key: z.string().optional(),
    ...secret('passphrase'),
    ca: z.string().optional(),
    backend: z
      .object({
        mode: z.enum(['disable', 'prefer', 'require', 'verify-full']).default('prefer'),
        ca: z.string().optional(),
      })
      .strict()
      .default({ mode: 'prefer' }),
  })
  .strict()
  .refine((v) => (v.cert === undefined) === (v.key === undefined), {
    message: '`cert` and `key` go together: both to terminate TLS, neither to pass it through',
  });

/** The auth_query role (`patroni-router auth-setup` prints its SQL). */
export const authSchema = z
  .object({
    user: z.string().min(1).default('patroni_router_auth'),
    ...secret('password'),
    database: z.string().min(1).default('postgres'),
    schema: z.string().min(1).default('patroni_router'),
    cache_time: duration.default('30s'),
    timeout: duration.default('5s'),
  })
  .strict();

export const adminSchema = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(7000),
    ...secret('token'),
  })
  .strict();

export const fileSchema = z
  .object({
    // A single cluster, as in Patroni's own file...
    scope: z.string().min(1).optional(),
    namespace: z.string().optional(),
    etcd3: etcdSectionSchema.optional(),
    etcd: etcdSectionSchema.optional(),
    rest: z
      .object({ urls: z.array(z.string().url()).nonempty() })
      .strict()
      .optional(),
    topology: topologySchema.optional(),
    // ...or several.
    clusters: z.array(clusterSchema).optional(),
    listeners: z.array(listenerSchema).optional(),
    tls: tlsSchema.optional(),
    auth: authSchema.optional(),
    admin: adminSchema.optional(),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .optional(),
    startup_timeout: duration.default('10s'),
    authentication_timeout: duration.default('60s'),
    drain_timeout: duration.default('30s'),
    target_parameter_prefix: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'a lower-case identifier')
      .default('patroni_router'),
    /** Processes that accept and relay (src/workers/): `auto` = one per core. */
    workers: z
      .union([z.literal('auto'), z.number()], { error: WORKERS_EXPECTED })
      .refine((v) => v === 'auto' || (Number.isInteger(v) && v >= 1 && v <= MAX_WORKERS), { message: WORKERS_EXPECTED })
      .default(1),
  })
  .strict();

export type ConfigFile = z.infer<typeof fileSchema>;
export type ClusterSection = z.infer<typeof clusterSchema>;
export type EtcdSection = z.infer<typeof etcdSectionSchema>;
export type ListenerSection = z.infer<typeof listenerSchema>;
