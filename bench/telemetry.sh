#!/usr/bin/env bash
# Benchmark: what a telemetry plugin costs a request. tokenhub on the echo model with and
# without `telemetry: [PrometheusTelemetry]`, in alternating rounds: p50/p99 at concurrency 1
# (wrk) and, at concurrency 32, requests/s and tokenhub's CPU per request (from /proc).
# Usage: bench/telemetry.sh [rounds] [seconds]        (prints figures; asserts nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
bench_setup tokenhub DirectDispatch PrometheusTelemetry
rounds=${1:-3}
seconds=${2:-5}
chat_request echo echo-1
ticks_per_second=$(getconf CLK_TCK)
printf '%-10s %-6s %10s %10s %12s %16s\n' "variant" "round" "p50" "p99" "c32 req/s" "CPU us/request"
for round in $(seq "$rounds"); do
  for variant in without with; do
    telemetry=""
    [ "$variant" = with ] && telemetry="telemetry: [PrometheusTelemetry]"
    cat >"$work/$variant.yaml" <<YAML
server: {listen: 127.0.0.1:19220}
dispatch: {chain: [DirectDispatch]}
$telemetry
providers: [{id: echo, type: echo}]
models: [{id: echo-1, provider: echo}]
YAML
    serve_tokenhub "$work/$variant.yaml" 127.0.0.1:19220; pid=$tokenhub
    url=http://127.0.0.1:19220/v1/chat/completions
    wrk -t1 -c1 -d2s -s "$work/echo.lua" "$url" >/dev/null 2>&1
    latency=$(wrk -t1 -c1 -d"${seconds}s" --latency -s "$work/echo.lua" "$url" 2>/dev/null)
    before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    rps=$(wrk -t2 -c32 -d"${seconds}s" -s "$work/echo.lua" "$url" 2>/dev/null | awk '/Requests\/sec/ { print $2 }')
    after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    cpu=$(echo "($after - $before) * 1000000 / $ticks_per_second / ($rps * $seconds)" | bc)
    printf '%-10s %-6s %10s %10s %12s %16s\n' "$variant" "$round" "$(awk '$1 == "50%" { print $2 }' <<<"$latency")" \
      "$(awk '$1 == "99%" { print $2 }' <<<"$latency")" "$rps" "$cpu"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done
