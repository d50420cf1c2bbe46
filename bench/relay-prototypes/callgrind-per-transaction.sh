#!/bin/bash
# User-space instructions per pgbench -S transaction of a proxy process already running under
#   valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=DIR/cg-NAME.%p.out node ...
# A number the machine's load does not move (unlike TPS or CPU seconds), for comparing relays on
# a shared machine. It warms the proxy up (JIT), measures its idle rate (timers, DCS watch, REST
# probes) and subtracts it, then counts a window of 8 clients and one of 1 client.
# usage: callgrind-per-transaction.sh DIR NAME PORT [WARM_TRANSACTIONS_PER_CLIENT]
# (the process is found from its newest DIR/cg-NAME.<pid>.out: $! of a backgrounded `valgrind`
# may be a wrapper's pid, not the one callgrind_control needs)
# Prints, per window, the main thread's and all threads' Ir per transaction.
# CHURN=1: pgbench -C (a new connection per transaction), so the figure is Ir per connection.
set -euo pipefail
dir=$1; name=$2; port=$3; warm=${4:-2000}
out=$(ls -t "$dir"/cg-"$name".*.out | head -1)
pid=$(basename "$out" | sed -E "s/^cg-$name\.([0-9]+)\.out$/\1/")

churn=${CHURN:+-C}
pgb() { PGSSLMODE=disable pgbench -h 127.0.0.1 -p "$port" -U postgres -n -S $churn -j 1 "$@" postgres 2>&1 | grep -oP 'processed: \K[0-9]+'; }
latest_dump() { ls "$dir"/cg-"$name"."$pid".out.*-01 | sed -E 's/.*out\.([0-9]+)-01/\1/' | sort -n | tail -1; }
main_ir() { grep -h -oP '^summary: \K[0-9]+' "$dir/cg-$name.$pid.out.$1-01"; }
all_ir() { grep -h -oP '^summary: \K[0-9]+' "$dir"/cg-"$name"."$pid".out."$1"-* | paste -sd+ | bc; }
now() { date +%s.%N; }

pgb -c 8 -t "$warm" >/dev/null
windows=("8 1000" "1 4000")
if [ -n "$churn" ]; then windows=("8 40" "1 200"); fi
callgrind_control -z "$pid" >/dev/null 2>&1; t0=$(now); sleep 5; callgrind_control -d "$pid" >/dev/null 2>&1; t1=$(now); sleep 1
d=$(latest_dump)
idle_main=$(echo "$(main_ir "$d") / ($t1 - $t0)" | bc -l); idle_all=$(echo "$(all_ir "$d") / ($t1 - $t0)" | bc -l)
printf '%s idle: %.0f Ir/s main thread, %.0f all threads\n' "$name" "$idle_main" "$idle_all"
for spec in "${windows[@]}"; do
  set -- $spec
  callgrind_control -z "$pid" >/dev/null 2>&1; t0=$(now); n=$(pgb -c "$1" -t "$2"); callgrind_control -d "$pid" >/dev/null 2>&1; t1=$(now); sleep 1
  d=$(latest_dump); s=$(echo "$t1 - $t0" | bc -l)
  printf '%s c=%s: %d transactions, main thread %.0f Ir/txn, all threads %.0f Ir/txn (idle rate subtracted)\n' "$name" "$1" "$n" \
    "$(echo "($(main_ir "$d") - $idle_main * $s) / $n" | bc -l)" "$(echo "($(all_ir "$d") - $idle_all * $s) / $n" | bc -l)"
done
