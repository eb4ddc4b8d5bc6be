#!/usr/bin/env bash
# Benchmark: the direct path at a proxy's cost. In one run, on loopback, against the same nginx
# mock upstream (bench/peers: a few µs of CPU per request, so it does not starve the gateway):
#   direct       wrk straight at the mock
#   nginx-proxy  nginx as a plain reverse proxy in front of it (the cost of one proxy hop)
#   tokenhub     tokenhub serve (release), DirectDispatch, no store, default logging
# in alternating rounds, printing per round:
#   - requests/s at concurrency 256 against the mock's 20 ms route, and the ratio to direct;
#   - CPU per request of the proxy (utime+stime of its process from /proc over the run);
#   - added latency p50/p99 at concurrency 1 on the mock's immediate route;
# then, once: tokenhub's peak RSS (VmHWM) after the load, and 2048 concurrent streamed
# completions (20 chunks 50 ms apart) direct and through tokenhub: completed, worst gap
# between two chunks, tokenhub's CPU per relayed chunk.
# With TOKENHUB_BASELINE=DIR (a directory holding another build's tokenhub and
# libDirectDispatch.so), that build runs too, as variant `baseline`, in the same rounds: the
# way to compare a change with what it replaces in one run.
# Usage: bench/gateway.sh [rounds] [seconds]       (prints figures; asserts nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-10}
source bench/common.sh
bench_setup tokenhub DirectDispatch
ticks=$(getconf CLK_TCK)
ulimit -n 65536 2>/dev/null || true

mock_dir=$(bash bench/peers/start-nginx.sh mock 19301)
proxy_dir=$(bash bench/peers/start-nginx.sh proxy 19302 19301)
trap 'kill "$(cat "$mock_dir/nginx.pid")" "$(cat "$proxy_dir/nginx.pid")" 2>/dev/null; bench_cleanup' EXIT
worker() { pgrep -P "$(cat "$1/nginx.pid")" | head -1; }
mock_worker=$(worker "$mock_dir"); proxy_worker=$(worker "$proxy_dir")

cat >"$work/config.yaml" <<YAML
server: {listen: 127.0.0.1:19300}
dispatch: {chain: [DirectDispatch]}
providers:
  - {id: mock, type: openai, base_url: "http://127.0.0.1:19301/v1", api_key: sk-bench}
  - {id: mock-slow, type: openai, base_url: "http://127.0.0.1:19301/slow/v1", api_key: sk-bench}
  - {id: mock-stream, type: openai, base_url: "http://127.0.0.1:19301/stream/v1", api_key: sk-bench}
models:
  - {id: mock-model, provider: mock}
  - {id: mock-model-slow, provider: mock-slow}
  - {id: mock-model-stream, provider: mock-stream}
YAML
serve_tokenhub "$work/config.yaml" 127.0.0.1:19300 "$work/tokenhub.log"; th=$tokenhub
variants="direct nginx-proxy tokenhub"
if [ -n "${TOKENHUB_BASELINE:-}" ]; then
  sed 's/127.0.0.1:19300/127.0.0.1:19303/' "$work/config.yaml" >"$work/baseline.yaml"
  bin_saved=$bin; bin=$TOKENHUB_BASELINE
  serve_tokenhub "$work/baseline.yaml" 127.0.0.1:19303 "$work/baseline.log"; baseline=$tokenhub
  bin=$bin_saved; variants="$variants baseline"
fi

body='{"model":"%s","messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32}'
lua() { printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer sk-bench"\nwrk.body = %s\n' "'$(printf "$body" "$1")'" >"$work/$2.lua"; }
lua mock-model fast; lua mock-model-slow slow

cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ms() { awk -v p="$2%" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v); print v } else { sub(/s$/, "", v); print v * 1000 } }' <<<"$1"; }

# url_of VARIANT ROUTE: where wrk sends the request (ROUTE: fast or slow).
url_of() {
  case $1:$2 in
    direct:fast) echo http://127.0.0.1:19301/v1/chat/completions ;;
    direct:slow) echo http://127.0.0.1:19301/slow/v1/chat/completions ;;
    nginx-proxy:fast) echo http://127.0.0.1:19302/v1/chat/completions ;;
    nginx-proxy:slow) echo http://127.0.0.1:19302/slow/v1/chat/completions ;;
    tokenhub:*) echo http://127.0.0.1:19300/v1/chat/completions ;;
    baseline:*) echo http://127.0.0.1:19303/v1/chat/completions ;;
  esac
}
pid_of() { case $1 in direct) echo "$mock_worker" ;; nginx-proxy) echo "$proxy_worker" ;; tokenhub) echo "$th" ;; baseline) echo "$baseline" ;; esac; }

for variant in $variants; do wrk -t2 -c64 -d3s -s "$work/slow.lua" "$(url_of "$variant" slow)" >/dev/null 2>&1; done  # warm up pools
printf '%-12s %-6s %12s %7s %16s %12s %12s\n' variant round "c256 req/s" ratio "CPU us/request" "c1 p50 ms" "c1 p99 ms"
for round in $(seq "$rounds"); do
  for variant in $variants; do
    pid=$(pid_of "$variant")
    before=$(cpu_of "$pid")
    out=$(wrk -t2 -c256 -d"${seconds}s" -s "$work/slow.lua" "$(url_of "$variant" slow)" 2>/dev/null)
    after=$(cpu_of "$pid")
    rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    requests=$(awk '/requests in/ { print $1 }' <<<"$out")
    [ "$variant" = direct ] && direct_rps=$rps
    cpu=$(echo "($after - $before) * 1000000 / $ticks / $requests" | bc)
    latency=$(wrk -t1 -c1 -d"${seconds}s" --latency -s "$work/fast.lua" "$(url_of "$variant" fast)" 2>/dev/null)
    printf '%-12s %-6s %12s %7.2f %16s %12.3f %12.3f\n' "$variant" "$round" "$rps" "$(echo "$rps / $direct_rps" | bc -l)" "$cpu" \
      "$(ms "$latency" 50)" "$(ms "$latency" 99)"
  done
done
rss() { echo "$(awk '/VmHWM/ { print $2 }' "/proc/$1/status") / 1024" | bc -l; }
printf '\ntokenhub peak RSS (VmHWM) after the load: %.1f MB\n' "$(rss "$th")"
[ -n "${baseline:-}" ] && printf 'baseline peak RSS (VmHWM) after the load: %.1f MB\n' "$(rss "$baseline")"

echo
printf '%-10s %s\n' "streams" "2048 concurrent, 20 chunks 50 ms apart (bench/peers/sse_load.py), $rounds alternating rounds"
stream_variants="tokenhub"; [ -n "${baseline:-}" ] && stream_variants="tokenhub baseline"
for round in $(seq "$rounds"); do
  printf '%-10s %s\n' "direct" "$(python3 bench/peers/sse_load.py 127.0.0.1 19301 /stream/v1/chat/completions 2048 mock-model 20)"
  for variant in $stream_variants; do
    pid=$(pid_of "$variant"); port=$([ "$variant" = tokenhub ] && echo 19300 || echo 19303)
    before=$(cpu_of "$pid")
    through=$(python3 bench/peers/sse_load.py 127.0.0.1 "$port" /v1/chat/completions 2048 mock-model-stream 20)
    after=$(cpu_of "$pid")
    printf '%-10s %s, %s us CPU per relayed chunk\n' "$variant" "$through" "$(echo "($after - $before) * 1000000 / $ticks / (2048 * 20)" | bc)"
  done
done
echo "targets: tokenhub CPU/request <= 80 us at c256, ratio >= 0.8, added p50 <= 60 us, worst gap <= 2x direct, RSS <= 64 MB"
