#!/usr/bin/env bash
# Builds the libFuzzer harnesses in Tests/Fuzz with the toolchain's `-sanitize=fuzzer,address`
# and runs each for SECONDS (default 60) over its committed corpus in Tests/Fuzz/Corpus/<name>.
# New inputs go to a scratch copy, so the committed corpus changes only by hand: to keep an
# input (a crash found later, or new coverage), copy it into Tests/Fuzz/Corpus/<name>.
# Exits non-zero when a harness finds a crash; the input is left in .build-fuzz/<name>-crash-*.
#   scripts/fuzz.sh [SECONDS] [json|sse|config ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
harnesses=("${@:-json sse config}")
read -r -a harnesses <<< "${harnesses[*]}"
out=.build-fuzz
mkdir -p "$out"

sources_json=(Tests/Fuzz/JSONParserFuzz.swift Sources/TokenHubCore/*.swift)
sources_sse=(Tests/Fuzz/SSEParserFuzz.swift Sources/Engine/Providers/SSEParser.swift)

# The config reader sits on Yams (Swift over libyaml's C): both are built instrumented, and the
# reader's sources go into one module with their imports of sibling modules removed.
build_config() {
  local yams=.build/checkouts/Yams/Sources work="$out/config-build"
  if [ ! -d "$yams" ]; then swift package resolve >/dev/null; fi
  rm -rf "$work" && mkdir -p "$work/src"
  local clang
  clang="$(dirname "$(command -v swiftc)")/clang"
  for file in "$yams"/CYaml/src/*.c; do
    "$clang" -O1 -g -fsanitize=fuzzer-no-link,address -I "$yams/CYaml/include" -DYAML_DECLARE_STATIC -c "$file" -o "$work/$(basename "$file" .c).o"
  done
  swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name Yams -emit-module -emit-module-path "$work/Yams.swiftmodule" \
    -emit-library -static -D SWIFT_PACKAGE -I "$yams/CYaml/include" "$yams"/Yams/*.swift -o "$work/libYams.a" 2>&1 | grep -v "Cannot export local symbol" || true
  for file in Sources/TokenHubCore/*.swift Sources/Engine/RegistrySpecs.swift Sources/HostRuntime/Config/*.swift \
              Sources/TemporalKit/TemporalTLS.swift Tests/Fuzz/ConfigReaderFuzz.swift; do
    sed -E '/^import (Engine|TemporalKit|TokenHubCore)$/d' "$file" > "$work/src/$(basename "$file")"
  done
  swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name Fuzz_config -I "$work" -I "$yams/CYaml/include" \
    "$work"/src/*.swift "$work/libYams.a" "$work"/*.o -o "$out/fuzz-config" 2>&1 | grep -v "Cannot export local symbol" || true
}

for name in "${harnesses[@]}"; do
  case "$name" in
    json) sources=("${sources_json[@]}") ;;
    sse) sources=("${sources_sse[@]}") ;;
    config) sources=() ;;
    *) echo "fuzz: unknown harness $name (json, sse, config)" >&2; exit 2 ;;
  esac
  echo "fuzz: building $name"
  rm -f "$out/fuzz-$name"
  if [ "$name" = config ]; then
    build_config
  else
    swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name "Fuzz_$name" "${sources[@]}" -o "$out/fuzz-$name" 2>&1 \
      | grep -v "Cannot export local symbol" || true
  fi
  [ -x "$out/fuzz-$name" ] || { echo "fuzz: building $name failed" >&2; exit 1; }
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
