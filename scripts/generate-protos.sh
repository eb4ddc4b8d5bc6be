#!/usr/bin/env bash
# Regenerates Sources/TemporalProto from Protos/temporal_subset.proto. The output is committed,
# so ordinary builds never run protoc or build the code generators (that build alone takes
# ~10 minutes here). Run this only after editing the .proto.
#
# Needs: protoc (Debian: protobuf-compiler) and the two generator plugins, built once from the
# same package versions Package.swift uses:
#   swift-protobuf 1.39.0        -> protoc-gen-swift
#   grpc-swift-protobuf 2.4.1    -> protoc-gen-grpc-swift-2
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${TOKENHUB_PROTOC_TOOLS:-/tmp/tokenhub-protoc-tools}"

if ! command -v protoc >/dev/null; then
  apt-get install -y protobuf-compiler
fi
if [ ! -x "$TOOLS/grpc-swift-protobuf/.build/release/protoc-gen-swift" ]; then
  mkdir -p "$TOOLS"
  [ -d "$TOOLS/grpc-swift-protobuf" ] || git clone -q --branch 2.4.1 https://github.com/grpc/grpc-swift-protobuf "$TOOLS/grpc-swift-protobuf"
  (cd "$TOOLS/grpc-swift-protobuf" &&
    swift build -c release --product protoc-gen-grpc-swift-2 &&
    swift build -c release --product protoc-gen-swift)
fi
BIN="$TOOLS/grpc-swift-protobuf/.build/release"

rm -f Sources/TemporalProto/*.pb.swift Sources/TemporalProto/*.grpc.swift
protoc -I Protos \
  --plugin=protoc-gen-swift="$BIN/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift="$BIN/protoc-gen-grpc-swift-2" \
  --swift_opt=Visibility=Public \
  --swift_out=Sources/TemporalProto \
  --grpc-swift_opt=Visibility=Public,Server=false \
  --grpc-swift_out=Sources/TemporalProto \
  Protos/temporal_subset.proto
ls -l Sources/TemporalProto
