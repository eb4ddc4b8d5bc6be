#!/usr/bin/env bash
# Sets up, builds and runs the whole TokenHub test suite (unit and integration tests with real
# sockets, real processes and real plugin libraries). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build
