#!/usr/bin/env bash
# Benchmark: request-log appends per second through the store ABI (SQLiteStore, group commit),
# one append's latency, and the latency the store adds to a chat request (wrk at concurrency 1,
# echo model, with and without the store configured).
# Usage: bench/store.sh [rows] [concurrency]        (prints figures; asserts nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq; apt-get install -y -qq wrk >/dev/null; }
swift build -c release --product StoreBench >/dev/null
swift build -c release --product SQLiteStore >/dev/null
swift build -c release --product DirectDispatch >/dev/null
swift build -c release --product tokenhub >/dev/null
bin=$(swift build -c release --show-bin-path)
"$bin/StoreBench" "$bin/libSQLiteStore.so" "${1:-100000}" "${2:-256}"

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
printf '{"model":"echo-1","messages":[{"role":"user","content":"benchmark"}]}' >"$work/body.json"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open("$work/body.json"):read("*a")
LUA
p99() { wrk -t1 -c1 -d5s --latency -s "$work/post.lua" http://127.0.0.1:19200/v1/chat/completions 2>/dev/null | awk '$1 == "99%" { print $2 }'; }
for variant in without with; do
  store=""
  [ "$variant" = with ] && store="store: {plugin: SQLiteStore, config: {path: $work/tokenhub.db}}"
  cat >"$work/$variant.yaml" <<YAML
server: {listen: 127.0.0.1:19200}
dispatch: {chain: [DirectDispatch]}
$store
providers: [{id: echo, type: echo}]
models: [{id: echo-1, provider: echo}]
YAML
  "$bin/tokenhub" serve --config "$work/$variant.yaml" 2>/dev/null & pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null 127.0.0.1:19200/healthz && break; sleep 0.1; done
  wrk -t1 -c1 -d2s -s "$work/post.lua" http://127.0.0.1:19200/v1/chat/completions >/dev/null 2>&1
  echo "chat request p99 at concurrency 1, $variant the store: $(p99)"
  kill $pid; wait $pid 2>/dev/null || true
done
echo "rows written by the 'with' run: $(sqlite3 "$work/tokenhub.db" 'SELECT COUNT(*) FROM request_logs' 2>/dev/null || echo '?')"
