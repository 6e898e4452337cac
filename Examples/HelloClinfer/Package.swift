// swift-tools-version: 6.1
// An app that uses Clinfer as a dependency: load a GGUF model and stream a chat reply.
// Build: `swift build` here; run: `swift run HelloClinfer ../../models/SmolLM2-135M-Instruct.Q4_1.gguf "Hi!"`.
import PackageDescription

let package = Package(
    name: "HelloClinfer",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Clinfer", path: "../..")],
    targets: [
        .executableTarget(name: "HelloClinfer", dependencies: [.product(name: "Clinfer", package: "Clinfer")])
    ]
)
