# Shared by the HTTP benchmarks (sourced, not run). Call `bench_setup PRODUCT...` first: it
# installs wrk and bc if missing, builds the release products, and sets `bin` (the build
# directory), `work` (a scratch directory) and `pids` (processes killed on exit).

bench_setup() {
  command -v wrk >/dev/null && command -v bc >/dev/null || { apt-get update -qq; apt-get install -y -qq wrk bc >/dev/null; }
  for product in "$@"; do swift build -c release --product "$product" >/dev/null; done
  bin=$(swift build -c release --show-bin-path)
  work=$(mktemp -d)
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
  [ "${enqueue_probe:-no}" = yes ] && perf probe -q -d probe_libswift_Concurrency:swift_task_enqueueGlobal >/dev/null 2>&1
  return 0
}

# serve_tokenhub CONFIG ADDRESS [LOG]: starts `tokenhub serve --config CONFIG` (stderr to LOG,
# default /dev/null), waits until http://ADDRESS/healthz answers, and sets `tokenhub` to its
# pid (killed on exit too).
serve_tokenhub() {
  "$bin/tokenhub" serve --config "$1" 2>"${3:-/dev/null}" & tokenhub=$!
  pids+=("$tokenhub")
  for _ in $(seq 100); do curl -s -o /dev/null "http://$2/healthz" && break; sleep 0.1; done
}

# chat_request NAME MODEL: $work/NAME.json (a one-message chat for MODEL) and $work/NAME.lua
# (a wrk script POSTing it).
chat_request() {
  printf '{"model":"%s","messages":[{"role":"user","content":"benchmark"}]}' "$2" >"$work/$1.json"
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = io.open("%s"):read("*a")\n' \
    "$work/$1.json" >"$work/$1.lua"
}

# Sets enqueue_probe=yes when a uprobe on the concurrency runtime's global enqueue could be
# placed (needs root and perf with uprobes); bench_cleanup removes it.
enqueue_probe_start() {
  enqueue_probe=no
  local library
  library=$(ldd "$bin/tokenhub" | awk '/libswift_Concurrency/ { print $3 }')
  command -v perf >/dev/null && [ -n "$library" ] || return 0
  perf probe -q -d probe_libswift_Concurrency:swift_task_enqueueGlobal >/dev/null 2>&1 || true
  perf probe -q -x "$library" -a swift_task_enqueueGlobal >/dev/null 2>&1 && enqueue_probe=yes
  return 0
}

# enqueues_per_request PID URL LUA: global enqueues per request of tokenhub PID while wrk
# drives URL with LUA at concurrency 1 for 2 s; "n/a" without the probe.
enqueues_per_request() {
  [ "$enqueue_probe" = yes ] || { echo "n/a (needs perf with uprobes)"; return; }
  perf stat -x, -e probe_libswift_Concurrency:swift_task_enqueueGlobal -p "$1" -o "$work/enqueues.txt" -- sleep 3 &
  local stat=$! requests
  sleep 0.3
  requests=$(wrk -t1 -c1 -d2s -s "$3" "$2" 2>/dev/null | awk '/requests in/ { print $1 }')
  wait $stat || true
  awk -F, -v r="$requests" '/enqueueGlobal/ { printf "%.1f", $1 / r }' "$work/enqueues.txt"
}
