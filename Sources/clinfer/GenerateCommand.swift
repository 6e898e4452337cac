import ArgumentParser
import ClinferEngine
import Foundation

/// `clinfer generate`: streams a completion (or, with `--chat`, an assistant reply) to standard
/// output and prints prompt and decode speed at the end.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate text with a GGUF model, streamed to stdout.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "The prompt (or the user message with --chat).")
    var prompt: String

    @Flag(name: .long, help: "Treat the prompt as a user message and apply the model's chat template.")
    var chat = false

    @Option(name: .long, help: "System message for --chat (default: the template's own, if any).")
    var system: String?

    @Option(name: .long, help: "Tokens to generate at most.")
    var maxTokens = 256

    @Option(name: .long, help: "Sampling temperature; 0 is greedy and deterministic.")
    var temperature: Float = 0.8

    @Option(name: .long, help: "Top-k (0: off).")
    var topK = 40

    @Option(name: .long, help: "Top-p (1: off).")
    var topP: Float = 0.95

    @Option(name: .long, help: "Min-p (0: off).")
    var minP: Float = 0.05

    @Option(name: .long, help: "Repetition penalty (1: off).")
    var repeatPenalty: Float = 1

    @Option(name: .long, help: "Random seed, for reproducible sampling.")
    var seed: UInt64?

    @Option(name: .long, help: "Stop string (repeatable).")
    var stop: [String] = []

    @Flag(
        name: .long,
        help: "Print one JSON object with prompt_tokens, prompt_tok_s, decode_tokens, decode_tok_s, device on stderr.")
    var statsJson = false

    func run() async throws {
        let model = try modelOptions.load()
        let parameters = GenerationParameters(
            maxTokens: maxTokens, temperature: temperature, topK: topK, topP: topP, minP: minP,
            repetitionPenalty: repeatPenalty, seed: seed, stop: stop)
        let stream: AsyncThrowingStream<GenerationChunk, any Error>
        if chat {
            var messages = [ChatMessage(role: "user", content: prompt)]
            if let system { messages.insert(ChatMessage(role: "system", content: system), at: 0) }
            stream = model.chat(messages, parameters: parameters)
        } else {
            stream = model.generate(prompt: prompt, parameters: parameters)
        }
        var stats: GenerationStats?
        for try await chunk in stream {
            FileHandle.standardOutput.write(Data(chunk.text.utf8))
            if let final = chunk.stats { stats = final }
        }
        print()
        guard let stats else { return }
        if statsJson {
            progress(
                jsonLine([
                    "prompt_tokens": .number(Double(stats.promptTokens)),
                    "prompt_tok_s": .number(stats.promptTokensPerSecond),
                    "decode_tokens": .number(Double(stats.decodeTokens)),
                    "decode_tok_s": .number(stats.decodeTokensPerSecond),
                    "device": .string(stats.device),
                ]))
        } else {
            progress(
                "prompt: \(stats.promptTokens) tokens, \(format(stats.promptTokensPerSecond)) tok/s · decode: \(stats.decodeTokens) tokens, \(format(stats.decodeTokensPerSecond)) tok/s · \(stats.device)"
            )
        }
    }
}
