#!/usr/bin/env bash
# Benchmark: the gateway's own overhead on its direct path. Starts a mock OpenAI-compatible
# provider and tokenhub on loopback (release builds) and drives both with the same load
# generator (wrk), printing side by side:
#   - added latency p50/p99 at concurrency 1 (wrk --latency, microsecond resolution;
#     tokenhub minus direct-to-mock),
#   - requests/s at concurrency 256 against a mock answering after 20 ms (wrk), and the ratio,
#   - tokenhub's peak RSS,
#   - the echo provider's p50/p99 at concurrency 1 (the gateway alone: no upstream call),
#   - when `perf probe` works (root, uprobes): Swift concurrency global enqueues per echo
#     request, the figure the event-loop executor hook (ExecutorSetup.swift) is about.
# Usage: bench/gateway.sh [seconds-per-throughput-run]     (prints figures; asserts nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
source bench/common.sh
bench_setup tokenhub DirectDispatch MockProvider

"$bin/MockProvider" 19101 0 & pids+=($!)
"$bin/MockProvider" 19102 20 & pids+=($!)
cat >"$work/config.yaml" <<YAML
server: {listen: 127.0.0.1:19100, body_limit_bytes: 1048576}
dispatch: {chain: [DirectDispatch]}
providers:
  - {id: fast, type: openai, base_url: http://127.0.0.1:19101/v1}
  - {id: slow, type: openai, base_url: http://127.0.0.1:19102/v1}
  - {id: echo, type: echo}
models:
  - {id: fast-model, provider: fast}
  - {id: slow-model, provider: slow}
  - {id: echo-model, provider: echo}
YAML
serve_tokenhub "$work/config.yaml" 127.0.0.1:19100 "$work/tokenhub.log"

for name in fast slow echo; do chat_request "$name" "$name-model"; done

percentile() { # $1 = wrk --latency output, $2 = 50 or 99 -> milliseconds
  awk -v p="$2%" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v); print v } else { sub(/s$/, "", v); print v * 1000 } }' <<<"$1"
}
latency() { wrk -t1 -c1 -d"${seconds}s" --latency -s "$work/fast.lua" "$1" 2>/dev/null; }
rps() { wrk -t2 -c256 -d"${seconds}s" -s "$work/slow.lua" "$1" 2>/dev/null | awk '/Requests\/sec/ { print $2 }'; }

wrk -t1 -c4 -d2s -s "$work/fast.lua" http://127.0.0.1:19100/v1/chat/completions >/dev/null 2>&1   # warm up
direct=$(latency http://127.0.0.1:19101/v1/chat/completions)
through=$(latency http://127.0.0.1:19100/v1/chat/completions)
d50=$(percentile "$direct" 50); d99=$(percentile "$direct" 99)
t50=$(percentile "$through" 50); t99=$(percentile "$through" 99)
direct_rps=$(rps http://127.0.0.1:19102/v1/chat/completions)
through_rps=$(rps http://127.0.0.1:19100/v1/chat/completions)
rss_kb=$(awk '/VmHWM/ { print $2 }' /proc/$tokenhub/status)
echo_run=$(wrk -t1 -c1 -d"${seconds}s" --latency -s "$work/echo.lua" http://127.0.0.1:19100/v1/chat/completions 2>/dev/null)
e50=$(percentile "$echo_run" 50); e99=$(percentile "$echo_run" 99)

# Optional: global enqueues per request, counted with a uprobe on the concurrency runtime.
enqueue_probe_start
enqueues=$(enqueues_per_request "$tokenhub" http://127.0.0.1:19100/v1/chat/completions "$work/echo.lua")

printf '%-44s %12s %12s %12s\n' "" "direct" "tokenhub" "added/ratio"
printf '%-44s %10.3f ms %10.3f ms %9.0f us\n' "latency p50, concurrency 1 (wrk ${seconds}s)" "$d50" "$t50" "$(echo "($t50 - $d50) * 1000" | bc -l)"
printf '%-44s %10.3f ms %10.3f ms %9.0f us\n' "latency p99, concurrency 1" "$d99" "$t99" "$(echo "($t99 - $d99) * 1000" | bc -l)"
printf '%-44s %12s %12s %12.2f\n' "requests/s, concurrency 256, mock 20 ms (wrk)" "$direct_rps" "$through_rps" "$(echo "$through_rps / $direct_rps" | bc -l)"
printf '%-44s %25s %9.1f MB\n' "tokenhub peak RSS (VmHWM)" "" "$(echo "$rss_kb / 1024" | bc -l)"
printf '%-44s %12s %10.3f ms\n' "echo model (no upstream) p50, concurrency 1" "" "$e50"
printf '%-44s %12s %10.3f ms\n' "echo model (no upstream) p99, concurrency 1" "" "$e99"
printf '%-44s %25s\n' "global executor enqueues per echo request" "$enqueues"
echo "ideal at concurrency 256 with 20 ms: 12800 requests/s; targets: added p99 <= 150 us, ratio >= 0.8, RSS <= 64 MB"
