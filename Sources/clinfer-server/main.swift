import ArgumentParser
import ClinferServeCommand

/// `clinfer-server`: the OpenAI-compatible HTTP server (also `clinfer serve`).
struct ClinferServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clinfer-server",
        abstract: ServeOptions.abstract)

    @OptionGroup var options: ServeOptions

    func run() async throws { try await options.run() }
}

do {
    try await ClinferServerCommand.parse().run()
} catch {
    ClinferServerCommand.exit(withError: error)
}
