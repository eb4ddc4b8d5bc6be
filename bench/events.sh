#!/usr/bin/env bash
# Benchmark: what live telemetry costs a request on the direct path (echo model, no store).
# In alternating rounds of one run, tokenhub at concurrency 32 (wrk) with:
#   none        no telemetry plugin, nobody on the event stream
#   sse3        three clients reading GET /admin/v1/events (curl -N)
#   prometheus  telemetry: [PrometheusTelemetry]
#   jsonlog     telemetry: [JSONLogTelemetry] writing to a file
#   otlp        telemetry: [OTLPTelemetry] exporting to a live OTLP/gRPC receiver
# Prints requests/s and tokenhub's CPU per request (utime+stime from /proc), and for sse3 the
# events each subscriber received per second (the bus publishes one route_success per request).
# With TOKENHUB_BASELINE=DIR (a directory holding another build's tokenhub,
# libDirectDispatch.so and libPrometheusTelemetry.so), the rounds also run none-base,
# sse3-base and prometheus-base on that build.
# Usage: bench/events.sh [rounds] [seconds]        (prints figures; asserts nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
bench_setup tokenhub DirectDispatch PrometheusTelemetry JSONLogTelemetry OTLPTelemetry
rounds=${1:-3}
seconds=${2:-5}
chat_request echo echo-1
ticks_per_second=$(getconf CLK_TCK)
token=bench-admin-token-0123456789abcdef
python3 Tests/Fixtures/otlp_receiver.py --out "$work/spans.jsonl" >"$work/receiver.out" 2>/dev/null & pids+=($!)
for _ in $(seq 50); do grep -q PORT "$work/receiver.out" 2>/dev/null && break; sleep 0.1; done
receiver_port=$(awk '/PORT/ { print $2 }' "$work/receiver.out")

printf '%-11s %-6s %12s %16s %22s\n' "variant" "round" "c32 req/s" "CPU us/request" "events/s per subscriber"
for round in $(seq "$rounds"); do
  variants="none sse3 prometheus jsonlog otlp"
  [ -n "${TOKENHUB_BASELINE:-}" ] && variants="none none-base sse3 sse3-base prometheus prometheus-base jsonlog otlp"
  for variant in $variants; do
    case ${variant%-base} in
      prometheus) telemetry="telemetry: [PrometheusTelemetry]" ;;
      jsonlog) telemetry="telemetry: [{plugin: JSONLogTelemetry, config: {path: $work/events.jsonl}}]" ;;
      otlp) telemetry="telemetry: [{plugin: OTLPTelemetry, config: {endpoint: \"http://127.0.0.1:$receiver_port\"}}]" ;;
      *) telemetry="" ;;
    esac
    cat >"$work/$variant.yaml" <<YAML
server: {listen: 127.0.0.1:19230, admin_token: $token}
dispatch: {chain: [DirectDispatch]}
$telemetry
providers: [{id: echo, type: echo}]
models: [{id: echo-1, provider: echo}]
YAML
    if [ "${variant%-base}" != "$variant" ]; then
      bin_saved=$bin; bin=$TOKENHUB_BASELINE
      serve_tokenhub "$work/$variant.yaml" 127.0.0.1:19230; pid=$tokenhub
      bin=$bin_saved
    else
      serve_tokenhub "$work/$variant.yaml" 127.0.0.1:19230; pid=$tokenhub
    fi
    url=http://127.0.0.1:19230/v1/chat/completions
    subscribers=()
    if [ "${variant%-base}" = sse3 ]; then
      for index in 1 2 3; do
        curl -sN -H "Authorization: Bearer $token" "http://127.0.0.1:19230/admin/v1/events?types=route_success" \
          >"$work/sse$index.txt" & subscribers+=($!)
      done
      sleep 0.5
    fi
    wrk -t1 -c8 -d1s -s "$work/echo.lua" "$url" >/dev/null 2>&1
    for index in 1 2 3; do [ -f "$work/sse$index.txt" ] && : >"$work/sse$index.txt"; done
    before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    rps=$(wrk -t2 -c32 -d"${seconds}s" -s "$work/echo.lua" "$url" 2>/dev/null | awk '/Requests\/sec/ { print $2 }')
    after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    cpu=$(echo "($after - $before) * 1000000 / $ticks_per_second / ($rps * $seconds)" | bc)
    received="-"
    if [ "${variant%-base}" = sse3 ]; then
      sleep 0.5
      received=$(for index in 1 2 3; do grep -c '^event: route_success' "$work/sse$index.txt" || true; done \
        | awk -v s="$seconds" '{ printf "%s%d", (NR > 1 ? " / " : ""), $1 / s }')
      kill "${subscribers[@]}" 2>/dev/null || true
    fi
    printf '%-11s %-6s %12s %16s %22s\n' "$variant" "$round" "$rps" "$cpu" "$received"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done
