#!/usr/bin/env bash
# Benchmark: request-log appends per second through the store ABI (SQLiteStore, group commit),
# one append's latency, and what logging costs a chat request: wrk at concurrency 1 on the
# echo model without a store, then with SQLiteStore at commit_window_ms 0 and at the default
# (5), printing latency p50/p99 and, read from /proc/PID/io, the bytes and write calls the
# tokenhub process sent to storage per logged request.
# Usage: bench/store.sh [rows] [concurrency] [seconds]      (prints figures; asserts nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
command -v sqlite3 >/dev/null || { apt-get update -qq; apt-get install -y -qq sqlite3 >/dev/null; }
bench_setup StoreBench SQLiteStore DirectDispatch tokenhub
seconds=${3:-5}
"$bin/StoreBench" "$bin/libSQLiteStore.so" "${1:-100000}" "${2:-256}"

chat_request echo echo-1
io() { awk -v key="$2" '$1 == key ":" { print $2 }' "/proc/$1/io"; }
rows() { sqlite3 "$1" 'SELECT COUNT(*) FROM request_logs'; }
printf '\n%-34s %10s %10s %16s %16s\n' "chat request, concurrency 1" "p50" "p99" "bytes/request" "writes/request"
for variant in without window-0 window-default; do
  store=""
  db="$work/$variant.db"
  case $variant in
    window-0) store="store: {plugin: SQLiteStore, config: {path: $db, commit_window_ms: 0}}" ;;
    window-default) store="store: {plugin: SQLiteStore, config: {path: $db}}" ;;
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
  sleep 0.2
  bytes0=$(io $pid write_bytes); calls0=$(io $pid syscw); rows0=$([ -n "$store" ] && rows "$db" || echo 0)
  out=$(wrk -t1 -c1 -d"${seconds}s" --latency -s "$work/echo.lua" http://127.0.0.1:19200/v1/chat/completions 2>/dev/null)
  sleep 0.2
  per_request="-"; writes="-"
  if [ -n "$store" ]; then
    logged=$(( $(rows "$db") - rows0 ))
    per_request=$(( ($(io $pid write_bytes) - bytes0) / logged ))
    writes=$(echo "scale=1; ($(io $pid syscw) - $calls0) / $logged" | bc)
  fi
  printf '%-34s %10s %10s %16s %16s\n' "$variant" "$(awk '$1 == "50%" { print $2 }' <<<"$out")" \
    "$(awk '$1 == "99%" { print $2 }' <<<"$out")" "$per_request" "$writes"
  kill $pid; wait $pid 2>/dev/null || true
done
