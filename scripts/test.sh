#!/usr/bin/env bash
# Sets up, builds and runs the whole TokenHub test suite (unit and integration tests with real
# sockets, real processes and real plugin libraries) and the libFuzzer harnesses for a bounded
# time each (FUZZ_SECONDS, default 60). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
# The hostile-upstream run checks every answer against a deadline, so it runs alone, after the
# rest: the suites run in parallel, and the load tests among them would eat its slack.
swift test --skip-build --skip HostileUpstreamTests
swift test --skip-build --filter HostileUpstreamTests
