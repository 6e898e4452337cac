// swift-tools-version: 6.2
//
// Clinfer: an LLM inference runtime in Swift whose math runs as hand-written OpenCL C kernels.
//
// Layering (arrows point down only):
//   clinfer-server / clinfer serve  ──►  ClinferServeCommand (flags)  ──►  ClinferServer (Hummingbird, OpenAI API)  ──►  ClinferEngine
//   clinfer (CLI)  ──►  ClinferEngine  ──►  ClinferOps  ──►  OpenCLKit  ──►  COpenCL (C shim, links libOpenCL)
//   (formats, tokenizers, models,                  └──────►  ClinferKernels (Kernels/*.cl embedded by a build plugin)
//    generation)
//   CPeers: dlopen loaders for the benchmark peers (CLBlast, OpenBLAS); used by the CLI only.
import PackageDescription

/// Every Swift target builds with warnings as errors: the code stays warning-free under Swift 6
/// strict concurrency, and a new warning fails CI instead of piling up.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "Clinfer",
    platforms: [.macOS(.v15)],
    products: [
        /// The embeddable library: ops with OpenCL and CPU implementations, and the host layer.
        .library(name: "Clinfer", targets: ["ClinferEngine", "ClinferOps", "OpenCLKit"]),
        .executable(name: "clinfer", targets: ["clinfer"]),
        .executable(name: "clinfer-server", targets: ["clinfer-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The HTTP server (ClinferServer): no default traits (swift-configuration, full Foundation) builds much faster.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        // HTTP request/response parts in the server's connection handler (already a Hummingbird dependency).
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // C shim over <CL/cl.h>: pins the OpenCL version, exports typed flag constants and error names.
        .target(
            name: "COpenCL",
            linkerSettings: [.linkedLibrary("OpenCL")]
        ),
        // dlopen loaders for CLBlast and OpenBLAS so the benchmark can compare without a build dependency.
        .target(
            name: "CPeers",
            dependencies: ["COpenCL"],
            linkerSettings: [.linkedLibrary("dl")]
        ),
        // Swift host layer: discovery, context, queues, buffers, programs (with disk cache), kernels, events.
        .target(name: "OpenCLKit", dependencies: ["COpenCL"], swiftSettings: strict),
        // The OpenCL C sources of Kernels/, embedded as Swift string constants at build time.
        .target(name: "ClinferKernels", swiftSettings: strict, plugins: ["KernelEmbedder"]),
        // Ops: one protocol per op family, each with an OpenCL and a CPU implementation.
        .target(name: "ClinferOps", dependencies: ["OpenCLKit", "ClinferKernels"], swiftSettings: strict),
        // Engine: model formats (GGUF, safetensors), tokenizers, chat templates, models, generation.
        .target(name: "ClinferEngine", dependencies: ["ClinferOps", "OpenCLKit"], swiftSettings: strict),
        // The OpenAI-compatible HTTP server on Hummingbird: routes, SSE streaming, auth, limits, metrics.
        .target(
            name: "ClinferServer",
            dependencies: [
                "ClinferEngine", "ClinferOps",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            swiftSettings: strict
        ),
        // The flags of `clinfer serve` and `clinfer-server` (option parsing stays in the executables' layer).
        .target(
            name: "ClinferServeCommand",
            dependencies: [
                "ClinferServer", "ClinferOps",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "clinfer-server",
            dependencies: [
                "ClinferServeCommand",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "clinfer",
            dependencies: [
                "ClinferEngine", "ClinferOps", "OpenCLKit", "CPeers", "ClinferServeCommand",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Build tool: turns Kernels/*.cl and Kernels/*.h into Swift string constants.
        .executableTarget(name: "EmbedKernels", swiftSettings: strict),
        .plugin(name: "KernelEmbedder", capability: .buildTool(), dependencies: ["EmbedKernels"]),
        .testTarget(name: "OpenCLKitTests", dependencies: ["OpenCLKit", "ClinferKernels"], swiftSettings: strict),
        .testTarget(name: "ClinferOpsTests", dependencies: ["ClinferOps", "OpenCLKit"], swiftSettings: strict),
        .testTarget(
            name: "ClinferEngineTests", dependencies: ["ClinferEngine", "ClinferOps", "OpenCLKit"],
            resources: [.copy("Golden")], swiftSettings: strict),
        .testTarget(
            name: "ClinferServerTests",
            dependencies: [
                "ClinferServer", "ClinferServeCommand", "ClinferEngine",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ], swiftSettings: strict),
    ]
)
