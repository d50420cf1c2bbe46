#!/usr/bin/env bash
# Puts Debian 13's patroni 4.0.7 into a private directory, for test clusters started with
# { patroni: '4' } (test/cluster/patroni-install.ts). Nothing is installed system-wide: the
# package is only unpacked, and it runs on Debian 12's /usr/bin/python3 with the Python modules
# Debian 12's patroni 3.0.2 already depends on (scripts/install-deps.sh installs those first).
# Idempotent: does nothing when the directory is there. Called by install-deps.sh as root.
set -euo pipefail

version=4.0.7
# Keep in step with patroni4Dir in test/cluster/patroni-install.ts and scripts/ensure-ready.sh.
target=/opt/patroni-router/patroni-${version}
site=usr/lib/python3/dist-packages

[ -f "$target/$site/patroni/__init__.py" ] && exit 0

# What 4.0.7 imports on the paths the harness uses, all from Debian 12 (versions on Debian 12:
# click 8.1, prettytable 3.6, dateutil 2.8, psutil 5.9, urllib3 1.26, yaml 6.0, python-etcd
# 0.4.5 with dnspython, psycopg2 2.9). Debian 13's package also depends on python3-ydiff, which
# Debian 12 lacks; patronictl falls back to python3-cdiff (a patroni 3.0.2 dependency), the
# same diff module under its old name, so nothing from trixie is needed besides patroni itself.
modules='click prettytable dateutil psutil urllib3 yaml etcd dns psycopg2 cdiff'
for module in $modules; do
  if ! /usr/bin/python3 -c "import $module" >/dev/null 2>&1; then
    echo "install-patroni-4: /usr/bin/python3 cannot import $module; run scripts/install-deps.sh (it installs Debian 12's patroni and its Python modules first)" >&2
    exit 1
  fi
done

echo "install-patroni-4: unpacking Debian 13's patroni ${version} into ${target}"

# A private apt state: the trixie sources file, its package lists and the download live in a
# temporary directory, so the system's sources, lists and pins never see trixie (a later
# apt-get install cannot pull a trixie package by accident) and nothing is left behind.
work=$(mktemp -d /tmp/patroni-router-trixie.XXXXXX)
staging="${target}.partial.$$"
cleanup() { rm -rf "$work" "$staging"; }
trap cleanup EXIT
# apt downloads as the unprivileged _apt user; let it write where the files go.
chmod 755 "$work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts" "$work/download"
chown _apt "$work/lists/partial" "$work/cache/archives/partial" "$work/download" 2>/dev/null || true
cat >"$work/trixie.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_private=(
  -o "Dir::Etc::SourceList=$work/trixie.sources"
  -o "Dir::Etc::SourceParts=$work/parts"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
)
apt-get -qq "${apt_private[@]}" update
(cd "$work/download" && apt-get -qq "${apt_private[@]}" download patroni/trixie)

deb=$(find "$work/download" -name 'patroni_*.deb' -print -quit)
[ -n "$deb" ] || { echo "install-patroni-4: apt-get download patroni/trixie left no .deb" >&2; exit 1; }
packaged=$(dpkg-deb -f "$deb" Version)
if [[ "$packaged" != "${version}-"* ]]; then
  echo "install-patroni-4: trixie now ships patroni ${packaged}, not ${version}; update the version here, in test/cluster/patroni-install.ts and in scripts/ensure-ready.sh" >&2
  exit 1
fi

mkdir -p "$(dirname "$target")"
chmod 755 "$(dirname "$target")"
dpkg-deb -x "$deb" "$staging"
# Patroni runs as the postgres OS user: everything readable, directories traversable.
chmod -R a+rX "$staging"

check() { # <python3 args...> as the postgres user, with the private PYTHONPATH, from / so
  # that no `patroni` directory in the current one can shadow the package.
  (cd / && runuser -u postgres -- env PYTHONPATH="$staging/$site" /usr/bin/python3 "$@")
}
# Prints `__main__.py 4.0.7` when run with -m.
reported=$(check -m patroni --version)
if [[ "$reported" != *" ${version}" ]]; then
  echo "install-patroni-4: the unpacked patroni reports '${reported}', expected 'patroni ${version}'" >&2
  exit 1
fi
# --version imports little: also load what a member and patronictl load on etcd/etcd3.
check -c 'import patroni.ctl, patroni.dcs.etcd, patroni.dcs.etcd3, patroni.postgresql, patroni.api, patroni.ha'

mv "$staging" "$target"
echo "install-patroni-4: patroni ${version} in ${target} (run: PYTHONPATH=${target}/${site} /usr/bin/python3 -m patroni FILE)"
