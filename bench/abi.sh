#!/usr/bin/env bash
# Benchmark: the dispatch-plugin hop. CPU per request through DirectDispatch against the
# engine called in-process (echo model), alternating rounds in one run; plus a no-op C plugin.
# Usage: bench/abi.sh [requests per round] [rounds] [concurrency]   (prints figures; nothing asserts)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product ABIBench >/dev/null
swift build -c release --product DirectDispatch >/dev/null
out=$(mktemp -d)
cc -std=c11 -O2 -shared -fPIC -I Sources/PluginAPI/include Tests/Fixtures/CPlugins/misbehaving.c -o "$out/libnoop.so"
bin=$(swift build -c release --show-bin-path)
"$bin/ABIBench" "$out/libnoop.so" "$bin/libDirectDispatch.so" "${1:-20000}" "${2:-7}" "${3:-32}"
