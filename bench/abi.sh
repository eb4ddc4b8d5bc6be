#!/usr/bin/env bash
# Benchmark: one no-op dispatch through the C ABI (callback included) vs a direct Swift call.
# Usage: bench/abi.sh [iterations]      (prints ns/call; not a test, nothing asserts)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product ABIBench >/dev/null
swift build -c release --product DirectDispatch >/dev/null
out=$(mktemp -d)
cc -std=c11 -O2 -shared -fPIC -I Sources/PluginAPI/include Tests/Fixtures/CPlugins/misbehaving.c -o "$out/libnoop.so"
bin=$(swift build -c release --show-bin-path)
"$bin/ABIBench" "$out/libnoop.so" "$bin/libDirectDispatch.so" "${1:-200000}"
