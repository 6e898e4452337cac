// swift-tools-version: 6.1
//
// Clinfer: an LLM inference runtime in Swift whose math runs as hand-written OpenCL C kernels.
//
// Layering (arrows point down only):
//   clinfer (CLI)  ──►  ClinferEngine  ──►  ClinferOps  ──►  OpenCLKit  ──►  COpenCL (C shim, links libOpenCL)
//   (formats, tokenizers, models,                  └──────►  ClinferKernels (Kernels/*.cl embedded by a build plugin)
//    generation)
//   CPeers: dlopen loaders for the benchmark peers (CLBlast, OpenBLAS); used by the CLI only.
import PackageDescription

let package = Package(
    name: "Clinfer",
    platforms: [.macOS(.v15)],
    products: [
        /// The embeddable library: ops with OpenCL and CPU implementations, and the host layer.
        .library(name: "Clinfer", targets: ["ClinferEngine", "ClinferOps", "OpenCLKit"]),
        .executable(name: "clinfer", targets: ["clinfer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .target(name: "OpenCLKit", dependencies: ["COpenCL"]),
        // The OpenCL C sources of Kernels/, embedded as Swift string constants at build time.
        .target(name: "ClinferKernels", plugins: ["KernelEmbedder"]),
        // Ops: one protocol per op family, each with an OpenCL and a CPU implementation.
        .target(name: "ClinferOps", dependencies: ["OpenCLKit", "ClinferKernels"]),
        // Engine: model formats (GGUF, safetensors), tokenizers, chat templates, models, generation.
        .target(name: "ClinferEngine", dependencies: ["ClinferOps", "OpenCLKit"]),
        .executableTarget(
            name: "clinfer",
            dependencies: [
                "ClinferEngine", "ClinferOps", "OpenCLKit", "CPeers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Build tool: turns Kernels/*.cl and Kernels/*.h into Swift string constants.
        .executableTarget(name: "EmbedKernels"),
        .plugin(name: "KernelEmbedder", capability: .buildTool(), dependencies: ["EmbedKernels"]),
        .testTarget(name: "OpenCLKitTests", dependencies: ["OpenCLKit", "ClinferKernels"]),
        .testTarget(name: "ClinferOpsTests", dependencies: ["ClinferOps", "OpenCLKit"]),
        .testTarget(name: "ClinferEngineTests", dependencies: ["ClinferEngine", "ClinferOps", "OpenCLKit"],
                    resources: [.copy("Golden")]),
    ]
)
