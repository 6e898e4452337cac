import ArgumentParser

/// The `clinfer` command line: generation and model tools, device listing, benchmarks, the
/// GEMM tuner, kernel self-test.
@main
struct ClinferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clinfer",
        abstract: "An LLM inference runtime whose math runs as hand-written OpenCL kernels.",
        subcommands: [
            ServeCommand.self, GenerateCommand.self, EmbedCommand.self, TokenizeCommand.self, ScoreCommand.self,
            PerplexityCommand.self, InfoCommand.self, DevicesCommand.self, BenchCommand.self, TuneCommand.self,
            SelfTestCommand.self,
        ]
    )
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks against peers measured in the same run.",
        subcommands: [
            BenchGenerateCommand.self, BenchEmbedCommand.self, BenchGEMMCommand.self, BenchQuantCommand.self,
            BenchSoftmaxCommand.self, BenchAttentionCommand.self,
        ])
}

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune", abstract: "Searches kernel parameters and stores the best per device.",
        subcommands: [TuneGEMMCommand.self, TuneAttentionCommand.self])
}
