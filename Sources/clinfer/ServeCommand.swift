import ArgumentParser
import ClinferServer

/// `clinfer serve`: the OpenAI-compatible HTTP server, the same as `clinfer-server`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model over an OpenAI-compatible HTTP API (chat, completions, embeddings, models, health, metrics).")

    @OptionGroup var options: ServeOptions

    func run() async throws { try await options.run() }
}
