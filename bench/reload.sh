#!/usr/bin/env bash
# Benchmark: config reloads under load. wrk drives /v1/chat/completions (echo model) at
# concurrency 32 for SECONDS without reloads, then again while RELOADS reloads alternate two
# generations (A: DirectDispatch; B: a C relay dispatcher ahead of it, PrometheusTelemetry on,
# another routing mode and one more model). Prints the reload time (file read to swap, from
# the reload answer's took_ms) p50/p99, and the requests' p50/p99 and errors with and without.
# Usage: bench/reload.sh [seconds] [reloads]      (prints figures; nothing asserts)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
seconds=${1:-20}
reloads=${2:-20}
bench_setup tokenhub DirectDispatch PrometheusTelemetry
cc -std=c11 -O2 -shared -fPIC -I Sources/PluginAPI/include Tests/Fixtures/CPlugins/relay_dispatch.c -o "$work/librelay.so"
address=127.0.0.1:18391
token=bench-reload-admin-token-0123
write_config() {  # write_config A|B
  if [ "$1" = A ]; then
    chain="[DirectDispatch]"; extra=""; mode=normal; models="[{id: echo-1, provider: echo}]"
  else
    chain="[{plugin: $work/librelay.so, name: relay}, DirectDispatch]"; extra="telemetry: [PrometheusTelemetry]"
    mode=cheap; models="[{id: echo-1, provider: echo}, {id: echo-2, provider: echo}]"
  fi
  cat >"$work/config.yaml.new" <<YAML
server: {listen: $address, admin_token: $token}
dispatch: {chain: $chain}
providers: [{id: echo, type: echo}]
models: $models
routing: {mode: $mode}
$extra
YAML
  mv "$work/config.yaml.new" "$work/config.yaml"
}
write_config A
serve_tokenhub "$work/config.yaml" "$address" "$work/tokenhub.log"
chat_request chat echo-1
url="http://$address/v1/chat/completions"
wrk -t2 -c32 -d"${seconds}s" --latency -s "$work/chat.lua" "$url" >"$work/without.txt"
wrk -t2 -c32 -d"${seconds}s" --latency -s "$work/chat.lua" "$url" >"$work/with.txt" &
wrk_pid=$!
interval=$(echo "scale=3; $seconds / ($reloads + 1)" | bc)
: >"$work/took.txt"
for i in $(seq "$reloads"); do
  sleep "$interval"
  if [ $((i % 2)) = 1 ]; then write_config B; else write_config A; fi
  answer=$(curl -s -X POST -H "Authorization: Bearer $token" "http://$address/admin/v1/reload")
  echo "$answer" | sed -n 's/.*"took_ms":\([0-9.]*\).*/\1/p' >>"$work/took.txt"
  echo "$answer" | grep -q '"reloaded":true' || echo "reload $i failed: $answer"
done
wait "$wrk_pid"
percentile() {  # percentile P FILE: the P-th percentile of the numbers in FILE
  sort -n "$2" | awk -v p="$1" '{ v[NR] = $1 } END { i = int((NR * p + 99) / 100); if (i < 1) i = 1; print v[i] }'
}
latency() { awk -v q="$2%" '$1 == q { print $2 }' "$1"; }
errors() { awk '/Non-2xx|Socket errors/' "$1" | tr '\n' ' '; }
requests() { awk '/Requests\/sec/ { print $2 }' "$1"; }
echo "TokenHub reloads under load: ${seconds}s of wrk -c32 each, $reloads reloads alternating two generations, $(nproc) cores"
echo "  reload (file read to swap): p50 $(percentile 50 "$work/took.txt") ms, p99 $(percentile 99 "$work/took.txt") ms, max $(sort -n "$work/took.txt" | tail -1) ms over $(wc -l <"$work/took.txt") reloads   target p99 <= 50 ms"
echo "  requests without reloads: p50 $(latency "$work/without.txt" 50) p99 $(latency "$work/without.txt" 99), $(requests "$work/without.txt") req/s $(errors "$work/without.txt")"
echo "  requests with reloads:    p50 $(latency "$work/with.txt" 50) p99 $(latency "$work/with.txt" 99), $(requests "$work/with.txt") req/s $(errors "$work/with.txt")"
echo "  generation at the end: $(curl -s "http://$address/healthz" | sed -n 's/.*"generation":\([0-9]*\).*/\1/p')"
