#!/usr/bin/env bash
# Benchmark: tokenhub's memory under steady load. wrk at concurrency 256 against the nginx
# mock's 20 ms route through tokenhub (release, DirectDispatch, no store) for MINUTES, sampling
# tokenhub's RSS every 10 s; prints the samples as a table with a bar per sample, and the
# growth between the first and last minute.
# Usage: bench/soak.sh [minutes]       (prints figures; asserts nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
source bench/common.sh
bench_setup tokenhub DirectDispatch
mock_dir=$(bash bench/peers/start-nginx.sh mock 19311)
trap 'kill "$(cat "$mock_dir/nginx.pid")" 2>/dev/null; bench_cleanup' EXIT
cat >"$work/config.yaml" <<YAML
server: {listen: 127.0.0.1:19310}
dispatch: {chain: [DirectDispatch]}
providers: [{id: mock-slow, type: openai, base_url: "http://127.0.0.1:19311/slow/v1", api_key: sk-bench}]
models: [{id: mock-model-slow, provider: mock-slow}]
YAML
serve_tokenhub "$work/config.yaml" 127.0.0.1:19310; th=$tokenhub
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' \
  "'{\"model\":\"mock-model-slow\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}'" >"$work/slow.lua"
wrk -t2 -c256 -d"$((minutes * 60))s" -s "$work/slow.lua" http://127.0.0.1:19310/v1/chat/completions >"$work/wrk.txt" 2>&1 &
load=$!
printf '%8s %10s\n' "t (s)" "RSS (MB)"
samples=()
for t in $(seq 10 10 $((minutes * 60))); do
  sleep 10
  rss=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$th/status")
  samples+=("$rss")
  printf '%8s %10s  %s\n' "$t" "$rss" "$(printf '%*s' "$(printf '%.0f' "$rss")" '' | tr ' ' '#')"
done
wait $load || true
awk '/Requests\/sec/ { print "requests/s: " $2 }' "$work/wrk.txt"
n=${#samples[@]}
first=$(printf '%s\n' "${samples[@]:0:6}" | sort -n | tail -1)
last=$(printf '%s\n' "${samples[@]:$((n - 6)):6}" | sort -n | tail -1)
echo "peak RSS in the first minute ${first} MB, in the last minute ${last} MB, VmHWM $(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$th/status") MB"
