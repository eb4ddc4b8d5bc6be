#!/usr/bin/env python3
"""A real OTLP/gRPC trace receiver for the OTLPTelemetry tests, built on grpcio and the
opentelemetry-proto package (the collector's own protobuf definitions).

Usage: otlp_receiver.py --out FILE [--port N]. Prints "PORT <n>" once listening, and appends
one JSON line per received span to FILE: trace_id, span_id, parent_span_id (hex), name, kind, start and end
(Unix ns), status code and message, attributes (as plain values), and the resource's
service.name.
"""
import argparse
import json
import sys
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


def plain(value):
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [plain(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: plain(item.value) for item in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, out):
        self.out = out

    def Export(self, request, context):
        for resource_spans in request.resource_spans:
            resource = {item.key: plain(item.value) for item in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.out.write(json.dumps({
                        "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(), "name": span.name, "kind": span.kind,
                        "start_unix_nano": span.start_time_unix_nano, "end_unix_nano": span.end_time_unix_nano,
                        "status_code": span.status.code, "status_message": span.status.message,
                        "attributes": {item.key: plain(item.value) for item in span.attributes},
                        "service_name": resource.get("service.name"),
                    }) + "\n")
                    self.out.flush()
        return trace_service_pb2.ExportTraceServiceResponse()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    arguments = parser.parse_args()
    out = open(arguments.out, "a", encoding="utf-8")
    # One worker: span lines never interleave.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Receiver(out), server)
    port = server.add_insecure_port(f"127.0.0.1:{arguments.port}")
    server.start()
    print(f"PORT {port}", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    sys.exit(main())
