import ArgumentParser
import ClinferServeCommand

/// `clinfer serve`: the OpenAI-compatible HTTP server, the same as `clinfer-server`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: ServeOptions.abstract)

    @OptionGroup var options: ServeOptions

    func run() async throws { try await options.run() }
}
