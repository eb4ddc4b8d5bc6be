#!/usr/bin/env bash
# Builds the libFuzzer harnesses in Tests/Fuzz with the toolchain's `-sanitize=fuzzer,address`
# and runs each for SECONDS (default 60) over its committed corpus in Tests/Fuzz/Corpus/<name>.
# New inputs go to a scratch copy, so the committed corpus changes only by hand: to keep an
# input (a crash found later, or new coverage), copy it into Tests/Fuzz/Corpus/<name>.
# Exits non-zero when a harness finds a crash; the input is left in .build-fuzz/<name>-crash-*.
#   scripts/fuzz.sh [SECONDS] [json|sse ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
harnesses=("${@:-json sse}")
read -r -a harnesses <<< "${harnesses[*]}"
out=.build-fuzz
mkdir -p "$out"

sources_json=(Tests/Fuzz/JSONParserFuzz.swift Sources/TokenHubCore/*.swift)
sources_sse=(Tests/Fuzz/SSEParserFuzz.swift Sources/Engine/Providers/SSEParser.swift)

for name in "${harnesses[@]}"; do
  case "$name" in
    json) sources=("${sources_json[@]}") ;;
    sse) sources=("${sources_sse[@]}") ;;
    *) echo "fuzz: unknown harness $name (json, sse)" >&2; exit 2 ;;
  esac
  echo "fuzz: building $name"
  swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name "Fuzz_$name" "${sources[@]}" -o "$out/fuzz-$name" 2>&1 \
    | grep -v "Cannot export local symbol" || true
  scratch="$out/corpus-$name"
  rm -rf "$scratch" && mkdir -p "$scratch"
  echo "fuzz: running $name for ${seconds}s over Tests/Fuzz/Corpus/$name ($(ls Tests/Fuzz/Corpus/$name | wc -l) inputs)"
  "$out/fuzz-$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$out/$name-" "$scratch" "Tests/Fuzz/Corpus/$name" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done|==|SUMMARY|INFO: seed corpus)" || true
  if ls "$out/$name-"crash-* "$out/$name-"leak-* "$out/$name-"timeout-* >/dev/null 2>&1; then
    echo "fuzz: $name found a failing input: $(ls "$out/$name-"crash-* "$out/$name-"leak-* "$out/$name-"timeout-* 2>/dev/null | head -3)" >&2
    exit 1
  fi
  echo "fuzz: $name passed"
done
