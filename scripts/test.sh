#!/usr/bin/env bash
# Sets up, builds and runs the whole TokenHub test suite (unit and integration tests with real
# sockets, real processes and real plugin libraries) and the libFuzzer harnesses for a bounded
# time each (FUZZ_SECONDS, default 60). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
swift test --skip-build
