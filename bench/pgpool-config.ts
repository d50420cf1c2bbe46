/**
 * pgpool.conf for the mixed-workload bench: Pgpool-II 4.3 in streaming-replication mode in front
 * of the three members, load balancing on, on loopback, every file in its own directory. Pure.
 */
export interface PgpoolLayout {
  port: number;
  /** Holds the unix sockets, pid file, pgpool_status, pool_passwd and pcp.conf. */
  dir: string;
  /** In the order pgpool numbers them (backend 0, 1, ...). */
  members: ReadonlyArray<{ host: string; port: number }>;
  /** Processes, so sessions, pgpool accepts at once: at least the bench's clients plus the checker. */
  children: number;
  /** The database whose reads go to a standby (database_redirect_preference_list). */
  database: string;
  /** The role pgpool's streaming-replication and health checks log in as (trust on the members). */
  checkUser: string;
}

function quoted(value: string | number): string {
  return typeof value === 'number' ? String(value) : `'${value.replace(/'/g, "''")}'`;
}

export function renderPgpoolConfig(layout: PgpoolLayout): string {
  const settings: Array<[string, string | number, string?]> = [
    ['backend_clustering_mode', 'streaming_replication', 'primary found with pg_is_in_recovery(), writes to it, reads load balanced'],
    ['listen_addresses', '127.0.0.1'],
    ['port', layout.port],
    ['socket_dir', layout.dir],
    ['pcp_listen_addresses', '', 'no PCP over TCP: its unix socket only'],
    ['pcp_socket_dir', layout.dir],
    ['pid_file_name', `${layout.dir}/pgpool.pid`],
    ['logdir', layout.dir, 'pgpool_status lives here (and pgpool starts with -D to ignore an old one)'],
    ['log_destination', 'stderr'],
    ['num_init_children', layout.children, 'one process per client session'],
    ['max_pool', 1, 'one cached backend connection set per process: the bench uses one user and database'],
    ['connection_cache', 'on'],
    ['reserved_connections', 0],
    ['enable_pool_hba', 'off', 'the members authenticate (trust for the bench role)'],
    ['pool_passwd', `${layout.dir}/pool_passwd`, 'an empty file: no md5/scram secrets needed with trust'],
    ['load_balance_mode', 'on'],
    ['statement_level_load_balance', 'off', "the default: a session's load-balance node is chosen once, at connect"],
    ['database_redirect_preference_list', `${layout.database}:standby`, "reads go to a standby, as the router's split route sends them to a replica"],
    ['disable_load_balance_on_write', 'transaction', "the default: only a write inside an explicit transaction keeps that transaction's reads on the primary"],
    ['sr_check_period', 1, 'seconds; also how pgpool keeps track of the replication delay'],
    ['sr_check_user', layout.checkUser],
    ['sr_check_password', ''],
    ['sr_check_database', 'postgres'],
    ['delay_threshold', 0, "the default: no lag limit, as the router's split listener has no max_lag here"],
    ['health_check_period', 5],
    ['health_check_timeout', 10],
    ['health_check_user', layout.checkUser],
    ['health_check_password', ''],
    ['health_check_database', 'postgres'],
    ['health_check_max_retries', 3],
    ['failover_command', '', 'Patroni does the failovers; pgpool only follows (not exercised here)'],
    ['failover_on_backend_error', 'off'],
    ['search_primary_node_timeout', 30],
    ['use_watchdog', 'off'],
    ['ssl', 'off', 'plain TCP like the other proxies; the clients ask for no TLS'],
  ];
  layout.members.forEach((m, i) => {
    settings.push([`backend_hostname${i}`, m.host]);
    settings.push([`backend_port${i}`, m.port]);
    settings.push([`backend_weight${i}`, 1]);
    settings.push([`backend_flag${i}`, 'ALLOW_TO_FAILOVER']);
  });
  return `${settings.map(([key, value, why]) => `${key} = ${quoted(value)}${why ? `    # ${why}` : ''}`).join('\n')}\n`;
}
