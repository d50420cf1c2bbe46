#!/usr/bin/env bash
# Run before `npm test`, `npm run demo` and `npm run bench`: system packages, node_modules and
# an up-to-date dist/. Quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."

for command in etcd etcdctl patroni patronictl haproxy openssl psql pgbench; do
  if ! command -v "$command" >/dev/null 2>&1; then
    bash scripts/install-deps.sh
    break
  fi
done
if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || ! id postgres >/dev/null 2>&1; then
  bash scripts/install-deps.sh
fi
# Drivers for the driver matrix, Pgpool-II for the bench, and the unpacked patroni 4.0.7
# (the same files install-deps.sh looks for).
for file in /usr/lib/python3/dist-packages/psycopg2/__init__.py /usr/lib/python3/dist-packages/psycopg/__init__.py \
  /usr/share/java/postgresql.jar /usr/sbin/pgpool \
  /opt/patroni-router/patroni-4.0.7/usr/lib/python3/dist-packages/patroni/__init__.py; do
  if [ ! -e "$file" ]; then
    bash scripts/install-deps.sh
    break
  fi
done

if [ ! -d node_modules ]; then
  echo "ensure-ready: node_modules missing, running npm ci"
  npm ci
fi

# `npm run build` leaves dist/.build-stamp dated from when it started, so edits made during a
# build count as newer and the next run builds again.
stamp=dist/.build-stamp
sources=(src test/cluster test/support/client-error-cause.ts test/support/auth-role.ts scripts bench chaos tsconfig.json package.json)
existing=()
for s in "${sources[@]}"; do [ -e "$s" ] && existing+=("$s"); done
if [ ! -f "$stamp" ] || [ -n "$(find "${existing[@]}" -newer "$stamp" -type f -print -quit)" ]; then
  echo "ensure-ready: building dist/"
  npm run --silent build
fi
