// swift-tools-version:6.1
import PackageDescription

/// Plugins export only their entry function; everything else (their own static copies of
/// TokenHubCore, PluginKit, NIO…) stays local so it can never bind to the host's copies.
let pluginLinkerSettings: [LinkerSetting] = [
    .unsafeFlags([
        "-Xlinker", "--version-script=\(Context.packageDirectory)/Plugins/exports.map",
        "-Xlinker", "-Bsymbolic",
    ])
]

let package = Package(
    name: "tokenhub",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tokenhub", targets: ["Host"]),
        .executable(name: "tokenhubctl", targets: ["TokenHubCtl"]),
        .library(name: "DirectDispatch", type: .dynamic, targets: ["DirectDispatch"]),
        .library(name: "SQLiteStore", type: .dynamic, targets: ["SQLiteStore"]),
        .library(name: "PostgresStore", type: .dynamic, targets: ["PostgresStore"]),
        .library(name: "PrometheusTelemetry", type: .dynamic, targets: ["PrometheusTelemetry"]),
        .library(name: "JSONLogTelemetry", type: .dynamic, targets: ["JSONLogTelemetry"]),
        .library(name: "OTLPTelemetry", type: .dynamic, targets: ["OTLPTelemetry"]),
        .library(name: "TemporalDispatch", type: .dynamic, targets: ["TemporalDispatch"]),
        .executable(name: "ABIBench", targets: ["ABIBench"]),
        .executable(name: "MockProvider", targets: ["MockProvider"]),
        .executable(name: "StoreBench", targets: ["StoreBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
    ],
    targets: [
        // The C ABI: one header, no Swift types.
        .target(name: "PluginAPI", path: "Sources/PluginAPI"),
        // Value types shared by the host and Swift plugins (each links its own static copy).
        .target(name: "TokenHubCore", path: "Sources/TokenHubCore"),
        // Helpers for writing plugins in Swift; linked into each Swift plugin.
        .target(name: "PluginKit", dependencies: ["PluginAPI", "TokenHubCore"], path: "Sources/PluginKit"),
        // A pooled HTTP/1.1 client for provider calls (the gateway's hot path).
        .target(
            name: "UpstreamHTTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Sources/UpstreamHTTP"
        ),
        // Routing, health and provider adapters; knows nothing of plugins.
        .target(
            name: "Engine",
            dependencies: [
                "TokenHubCore",
                "UpstreamHTTP",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Engine"
        ),
        // Config, plugin loader, dispatch chain, HTTP API.
        .target(
            name: "HostRuntime",
            dependencies: [
                "PluginAPI", "PluginKit", "TokenHubCore", "Engine", "TemporalKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/HostRuntime",
            // The admin console, compiled into the binary: no files to ship beside it.
            resources: [
                .embedInCode("Console/Assets/index.html"),
                .embedInCode("Console/Assets/app.js"),
                .embedInCode("Console/Assets/views.js"),
                .embedInCode("Console/Assets/app.css"),
            ]
        ),
        // `main` and the CLI only.
        // `tokenhubctl`: the admin API from the shell.
        .executableTarget(
            name: "TokenHubCtl",
            dependencies: [
                "TokenHubCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/TokenHubCtl"
        ),
        .executableTarget(
            name: "Host",
            dependencies: [
                "HostRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Host"
        ),
        .target(
            name: "DirectDispatch",
            dependencies: ["PluginKit", "PluginAPI", "TokenHubCore"],
            path: "Plugins/DirectDispatch",
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "OTLPTelemetry",
            dependencies: [
                "PluginKit", "PluginAPI", "TokenHubCore",
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/OTLPTelemetry",
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "JSONLogTelemetry",
            dependencies: ["PluginKit", "PluginAPI", "TokenHubCore"],
            path: "Plugins/JSONLogTelemetry",
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "PrometheusTelemetry",
            dependencies: ["PluginKit", "PluginAPI", "TokenHubCore", .product(name: "Prometheus", package: "swift-prometheus")],
            path: "Plugins/PrometheusTelemetry",
            linkerSettings: pluginLinkerSettings
        ),
        // Benchmarks (run through bench/*.sh; they print figures and assert nothing).
        .executableTarget(name: "ABIBench", dependencies: ["Engine", "HostRuntime", "PluginKit", "PluginAPI", "TokenHubCore"], path: "bench/abi"),
        .executableTarget(name: "StoreBench", dependencies: ["HostRuntime", "PluginKit", "PluginAPI", "TokenHubCore"], path: "bench/store"),
        .executableTarget(
            name: "MockProvider",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log")],
            path: "bench/mock-provider"
        ),
        // Helpers the test targets share: paths, the C fixture compiler, process runners.
        .target(
            name: "TestSupport",
            dependencies: [
                "TokenHubCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
        ),
        // The system libsqlite3 (Debian: libsqlite3-dev).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // The store operations parsed into typed records, shared by every store backend.
        .target(name: "StoreKit", dependencies: ["PluginKit", "TokenHubCore"], path: "Sources/StoreKit"),
        .target(
            name: "PostgresStore",
            dependencies: [
                "PluginKit", "PluginAPI", "TokenHubCore", "StoreKit",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/PostgresStore",
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "SQLiteStore",
            dependencies: ["PluginKit", "PluginAPI", "TokenHubCore", "CSQLite", "StoreKit"],
            path: "Plugins/SQLiteStore",
            linkerSettings: pluginLinkerSettings
        ),
        // Temporal's WorkflowService, generated from Protos/ by scripts/generate-protos.sh (committed).
        .target(
            name: "TemporalProto",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Sources/TemporalProto"
        ),
        // A small Temporal client and worker over gRPC: connection, payloads, replay, pollers.
        .target(
            name: "TemporalKit",
            dependencies: [
                "TemporalProto", "TokenHubCore",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/TemporalKit"
        ),
        // ChatWorkflow and OrchestrationWorkflow as deterministic replay functions.
        .target(name: "TokenHubWorkflows", dependencies: ["TemporalKit", "TokenHubCore"], path: "Sources/TokenHubWorkflows"),
        .target(
            name: "TemporalDispatch",
            dependencies: ["PluginKit", "PluginAPI", "TokenHubCore", "TemporalKit", "TokenHubWorkflows"],
            path: "Plugins/TemporalDispatch",
            linkerSettings: pluginLinkerSettings
        ),
        .testTarget(name: "TemporalTests", dependencies: [
            "TemporalKit", "TokenHubWorkflows", "TestSupport",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
        ], path: "Tests/TemporalTests",
                    resources: [.copy("Histories")]),
        .testTarget(name: "TokenHubCoreTests", dependencies: ["TokenHubCore", "TestSupport"], path: "Tests/TokenHubCoreTests"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"], path: "Tests/EngineTests"),
        .testTarget(
            name: "UpstreamHTTPTests",
            dependencies: [
                "UpstreamHTTP", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/UpstreamHTTPTests"
        ),
        .testTarget(
            name: "HostRuntimeTests",
            dependencies: ["HostRuntime", "PluginKit", "TestSupport"],
            path: "Tests/HostRuntimeTests"
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "HostRuntime", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/IntegrationTests"
        ),
    ]
)
