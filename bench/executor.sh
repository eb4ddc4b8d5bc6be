#!/usr/bin/env bash
# Benchmark: the same tokenhub binary under its three global-executor choices, in alternating
# rounds against the same mock provider (this machine's timings drift, so rounds alternate):
#   hook     the default: jobs run on NIO's event loops with generic isolation (ExecutorSetup.swift)
#   nio      TOKENHUB_GLOBAL_EXECUTOR=nio: NIO's takeover, jobs isolated to the loop
#   default  TOKENHUB_GLOBAL_EXECUTOR=default: Swift's own executor (a separate thread pool)
# For each: p50/p99 at concurrency 1 (wrk --latency) for the echo model (no upstream) and for a
# mock provider answering at once, and, when `perf probe` works, global enqueues per echo request.
# Usage: bench/executor.sh [rounds] [seconds]     (prints figures; asserts nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-5}
source bench/common.sh
bench_setup tokenhub DirectDispatch MockProvider

"$bin/MockProvider" 19301 0 & pids+=($!)
cat >"$work/config.yaml" <<YAML
server: {listen: 127.0.0.1:19300}
dispatch: {chain: [DirectDispatch]}
providers:
  - {id: mock, type: openai, base_url: http://127.0.0.1:19301/v1}
  - {id: echo, type: echo}
models:
  - {id: mock-model, provider: mock}
  - {id: echo-model, provider: echo}
YAML
for model in echo mock; do chat_request "$model" "$model-model"; done
url=http://127.0.0.1:19300/v1/chat/completions
latency() { wrk -t1 -c1 -d"${seconds}s" --latency -s "$work/$1.lua" "$url" 2>/dev/null \
  | awk '$1 == "50%" || $1 == "99%" { printf "%s %s  ", $1, $2 }'; }

enqueue_probe_start

for round in $(seq "$rounds"); do
  for mode in hook nio default; do
    environment=()
    [ "$mode" != hook ] && environment=(TOKENHUB_GLOBAL_EXECUTOR=$mode)
    env "${environment[@]}" "$bin/tokenhub" serve --config "$work/config.yaml" 2>/dev/null & tokenhub=$!
    for _ in $(seq 100); do curl -s -o /dev/null 127.0.0.1:19300/healthz && break; sleep 0.1; done
    wrk -t1 -c4 -d2s -s "$work/mock.lua" "$url" >/dev/null 2>&1   # warm up
    printf 'round %s %-8s echo: %s mock: %s enqueues/echo request: %s\n' \
      "$round" "$mode" "$(latency echo)" "$(latency mock)" "$(enqueues_per_request $tokenhub "$url" "$work/echo.lua")"
    kill $tokenhub; wait $tokenhub 2>/dev/null || true
  done
done
