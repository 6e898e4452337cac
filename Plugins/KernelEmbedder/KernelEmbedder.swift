import Foundation
import PackagePlugin

/// Embeds every `Kernels/*.cl` and `Kernels/*.h` file of the package into the target as Swift
/// string constants, so binaries carry their kernels and need no resource bundle at run time.
///
/// The Kernels directory itself is the command's input: adding, removing or editing a kernel
/// file regenerates the sources.
@main
struct KernelEmbedder: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let kernels = context.package.directoryURL.appending(path: "Kernels")
        let files = (try? FileManager.default.contentsOfDirectory(at: kernels, includingPropertiesForKeys: nil)) ?? []
        let sources = files.filter { ["cl", "h"].contains($0.pathExtension) }.sorted { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedKernels.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(sources.count) OpenCL kernel files",
                executable: try context.tool(named: "EmbedKernels").url,
                arguments: [output.path] + sources.map(\.path),
                inputFiles: [kernels] + sources,
                outputFiles: [output]
            )
        ]
    }
}
