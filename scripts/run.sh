#!/usr/bin/env bash
# Sets up, builds (release) and runs the gateway. Without a config file it serves the
# embedded default: one demo `echo` model on 127.0.0.1:8080. Extra arguments go to
# `tokenhub serve` (e.g. --config my.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release
exec "$(swift build -c release --show-bin-path)/tokenhub" serve "$@"
