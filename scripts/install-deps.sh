#!/usr/bin/env bash
# Installs the system packages the real-cluster tests, the demo and the bench need, and only
# those that are missing. Idempotent; silent when everything is there.
set -euo pipefail

missing=()   # apt packages to install
reasons=()   # why, one line each

need_command() { # <command> <package> <why>
  if ! command -v "$1" >/dev/null 2>&1; then
    missing+=("$2")
    reasons+=("  $1 (package $2): $3")
  fi
}

need_file() { # <file> <package> <why>
  if [ ! -e "$1" ]; then
    missing+=("$2")
    reasons+=("  $1 (package $2): $3")
  fi
}

need_command etcd etcd-server "the DCS every test cluster runs on"
need_command etcdctl etcd-client "inspecting etcd by hand"
need_command patroni patroni "manages the PostgreSQL members"
need_command patronictl patroni "switchover, pause, edit-config in tests"
need_command haproxy haproxy "the baseline the bench compares against"
need_command openssl openssl "self-signed certificates for TLS tests"
need_command psql postgresql-client-15 "running SQL on members"
need_command pgbench postgresql-client-15 "the bench's load generator"
need_command chromium chromium "headless browser for the status page test (test/integration/admin.test.ts)"

# The server: any installed major will do (the harness picks the newest), plus its OS user.
if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || ! id postgres >/dev/null 2>&1; then
  missing+=(postgresql-15)
  reasons+=("  postgresql-15: the PostgreSQL server and the 'postgres' OS user Patroni runs it as")
fi
# Patroni's etcd and etcd3 drivers both import python-etcd.
if command -v patroni >/dev/null 2>&1 && ! /usr/bin/python3 -c 'import etcd' >/dev/null 2>&1; then
  missing+=(python3-etcd)
  reasons+=("  python3-etcd: Patroni's etcd/etcd3 support")
fi

# Real drivers for the driver matrix (Debian 12's /usr/bin/python3, not a pyenv python).
need_file /usr/lib/python3/dist-packages/psycopg2/__init__.py python3-psycopg2 "psycopg2 driver tests (libpq underneath)"
need_file /usr/lib/python3/dist-packages/psycopg/__init__.py python3-psycopg "psycopg 3 driver tests (server-side prepares, pipeline mode)"
need_file /usr/share/java/postgresql.jar libpostgresql-jdbc-java "pgjdbc driver tests (the JDK is already on the machine)"
need_file /usr/sbin/pgpool pgpool2 "Pgpool-II, a baseline the bench compares against"

# Debian 13's patroni 4.0.7, unpacked into a private directory for { patroni: '4' } clusters;
# install-patroni-4.sh checks for itself whether it is there.
patroni4_missing=false
if [ ! -f /opt/patroni-router/patroni-4.0.7/usr/lib/python3/dist-packages/patroni/__init__.py ]; then
  patroni4_missing=true
  reasons+=("  /opt/patroni-router/patroni-4.0.7: Debian 13's patroni 4.0.7, unpacked, not installed (scripts/install-patroni-4.sh)")
fi

[ ${#missing[@]} -eq 0 ] && [ "$patroni4_missing" = false ] && exit 0

packages=()
if [ ${#missing[@]} -gt 0 ]; then mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u); fi

if [ "$(id -u)" -ne 0 ]; then
  {
    echo "install-deps: these are missing:"
    printf '%s\n' "${reasons[@]}"
    echo "install them as root with:"
    if [ ${#packages[@]} -gt 0 ]; then
      echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages[*]}"
    fi
    if [ "$patroni4_missing" = true ]; then echo "  sudo bash scripts/install-patroni-4.sh"; fi
    echo "(or run this script as root)"
  } >&2
  exit 1
fi

if [ ${#packages[@]} -eq 0 ]; then
  bash "$(dirname "$0")/install-patroni-4.sh"
  exit 0
fi

echo "install-deps: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive

# Installing must not start services (a postgres on 5432, an etcd on 2379, haproxy): deny
# service starts for the duration unless the system already has a policy.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
# Nor create the default 'main' cluster.
if [[ " ${packages[*]} " == *" postgresql-15 "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
  mkdir -p /etc/postgresql-common
  echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
fi

# Another apt run on the machine holds the lock for a while; wait for it instead of failing.
apt-get update -qq -o DPkg::Lock::Timeout=300
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold "${packages[@]}"

# Belt and braces: stop anything the packages started despite the policy.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters --no-header 2>/dev/null | while read -r version cluster _port status _rest; do
    if [ "$status" = online ]; then pg_ctlcluster "$version" "$cluster" stop || true; fi
  done
fi
for service in etcd patroni haproxy pgpool2; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
  fi
done
# Without systemd pgpool2's postinst goes through invoke-rc.d and its init script; the script's
# status looks at the package's own pid file, so pgpools started by the bench are left alone.
if [[ " ${packages[*]} " == *" pgpool2 "* ]] && [ -x /etc/init.d/pgpool2 ] && /etc/init.d/pgpool2 status >/dev/null 2>&1; then
  /etc/init.d/pgpool2 stop || true
fi

# After the apt packages: it runs on Debian 12's patroni dependencies installed above.
bash "$(dirname "$0")/install-patroni-4.sh"
echo "install-deps: done"
