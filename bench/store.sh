#!/usr/bin/env bash
# Benchmark: SQLiteStore and PostgresStore side by side.
#  1. Request-log appends per second through the store ABI (single rows at concurrency C, and
#     the host's 512-row batches), and one append's latency at concurrency 1.
#  2. A chat request at concurrency 1 (wrk, echo model) without a store, with SQLiteStore and
#     with PostgresStore (a throwaway local cluster): latency p50/p99, tokenhub's CPU per
#     request, and for PostgreSQL the server's CPU per logged request, all from /proc.
# Usage: bench/store.sh [rows] [concurrency] [seconds]      (prints figures; asserts nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
command -v sqlite3 >/dev/null || { apt-get update -qq; apt-get install -y -qq sqlite3 >/dev/null; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq postgresql >/dev/null; }
bench_setup StoreBench SQLiteStore PostgresStore DirectDispatch tokenhub
seconds=${3:-5}

# A throwaway PostgreSQL cluster on a free port (as the postgres user when run as root).
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
chmod 755 "$work"; mkdir -p "$work/pg"; [ "$(id -u)" = 0 ] && chown postgres "$work/pg"
as_pg "$pgbin/initdb" -D "$work/pg/data" -U postgres --auth=trust -E UTF8 >/dev/null
as_pg "$pgbin/postgres" -D "$work/pg/data" -k '' -h 127.0.0.1 -p "$pgport" >"$work/pg.log" 2>&1 & pgwrap=$!
pids+=("$pgwrap")
for _ in $(seq 100); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pgport" && break; sleep 0.1; done
postmaster=$(head -1 "$work/pg/data/postmaster.pid")
pg_url() { psql -q -h 127.0.0.1 -p "$pgport" -U postgres -c "CREATE DATABASE $1" >/dev/null; echo "postgres://postgres@127.0.0.1:$pgport/$1"; }

echo "== appends through the store ABI =="
echo "-- SQLiteStore"
"$bin/StoreBench" "$bin/libSQLiteStore.so" - "${1:-100000}" "${2:-256}"
echo "-- PostgresStore (local server, fsync on)"
"$bin/StoreBench" "$bin/libPostgresStore.so" "{\"url\":\"$(pg_url abi)\",\"tls\":\"disable\"}" "${1:-100000}" "${2:-256}"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() { local total=0; for p in $postmaster $(pgrep -P "$postmaster"); do total=$(( total + $(cpu_ticks "$p") )); done; echo $total; }
hz=$(getconf CLK_TCK)
chat_request echo echo-1
printf '\n%-28s %10s %10s %18s %18s\n' "chat request, concurrency 1" "p50" "p99" "tokenhub CPU/req" "postgres CPU/req"
for variant in without sqlite postgres; do
  case $variant in
    without) store="" ;;
    sqlite) store="store: {plugin: SQLiteStore, config: {path: $work/chat.db}}" ;;
    postgres) store="store: {plugin: PostgresStore, config: {url: \"$(pg_url chat)\", tls: disable}}" ;;
  esac
  cat >"$work/$variant.yaml" <<YAML
server: {listen: 127.0.0.1:19200}
dispatch: {chain: [DirectDispatch]}
$store
providers: [{id: echo, type: echo}]
models: [{id: echo-1, provider: echo}]
YAML
  serve_tokenhub "$work/$variant.yaml" 127.0.0.1:19200; pid=$tokenhub
  wrk -t1 -c1 -d2s -s "$work/echo.lua" http://127.0.0.1:19200/v1/chat/completions >/dev/null 2>&1
  sleep 0.3
  t0=$(cpu_ticks $pid); p0=$(pg_ticks)
  out=$(wrk -t1 -c1 -d"${seconds}s" --latency -s "$work/echo.lua" http://127.0.0.1:19200/v1/chat/completions 2>/dev/null)
  sleep 0.3
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  per_request() { echo "scale=1; ($1) * 1000000 / $hz / $requests" | bc; }
  tokenhub_cpu="$(per_request "$(cpu_ticks $pid) - $t0") us"
  pg_cpu="-"; [ "$variant" = postgres ] && pg_cpu="$(per_request "$(pg_ticks) - $p0") us"
  printf '%-28s %10s %10s %18s %18s\n' "$variant" "$(awk '$1 == "50%" { print $2 }' <<<"$out")" \
    "$(awk '$1 == "99%" { print $2 }' <<<"$out")" "$tokenhub_cpu" "$pg_cpu"
  kill $pid; wait $pid 2>/dev/null || true
done
