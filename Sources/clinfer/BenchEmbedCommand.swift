import ArgumentParser
import ClinferEngine
import ClinferOps
import Foundation
import OpenCLKit

/// `clinfer bench embed`: sentence embeddings per second of a BERT embedding model for batches
/// of 1, 8 and 32 texts of ~16 and ~128 tokens, on the OpenCL device and on the CPU path.
/// Benchmarks/embeddings-vs-torch.sh puts sentence-transformers (torch, CPU) beside it.
struct BenchEmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embeddings/s of a sentence-transformers model per batch size and text length, OpenCL and CPU.",
        discussion: """
            Texts are built as Benchmarks/minilm_torch_peer.py builds them (words of one fixed passage, from a \
            different start per text, until the tokenization with [CLS]/[SEP] has exactly --tokens ids), so the \
            torch peer embeds the same inputs. Each configuration: one warm-up call, then the median wall time of \
            --runs calls of embed (tokenization, forward pass, pooling and normalisation included).
            """)

    @Option(name: .long, help: "Model directory.")
    var model = EmbedCommand.defaultModel

    @Option(name: .long, help: "Comma-separated backends to measure: opencl, cpu.")
    var backends = "opencl,cpu"

    @Option(name: .long, help: "Comma-separated batch sizes.")
    var batches = "1,8,32"

    @Option(name: .long, help: "Comma-separated token counts per text ([CLS] and [SEP] included).")
    var tokens = "16,128"

    @Option(name: .long, help: "Padded tokens per forward pass at most (default: the library's, 512).")
    var batchTokens: Int?

    @Option(name: .long, help: "Timed runs per configuration (the median is reported).")
    var runs = 3

    @Flag(name: .long, help: "One JSON object per configuration instead of a table.")
    var json = false

    @Flag(
        name: .long,
        help: "Also print device time per kernel for one call of each configuration (OpenCL only), on standard error.")
    var profile = false

    static let passage =
        ("the harbor was quiet while fishing boats rocked against their moorings and gulls "
        + "circled overhead as an old keeper walked the pier checking every rope and cleat "
        + "before the morning tide carried ships past a slow steady bell buoy").split(separator: " ").map(String.init)

    func run() async throws {
        let backendList = try backends.split(separator: ",").map { name -> ComputeTarget.Preference in
            guard let preference = ComputeTarget.Preference(rawValue: String(name)), preference != .automatic else {
                throw ValidationError("unknown backend '\(name)' (opencl, cpu)")
            }
            return preference
        }
        let batchList = try integers(batches, "batch size"), tokenList = try integers(tokens, "token count")
        guard runs >= 1 else { throw ValidationError("--runs must be ≥ 1") }
        if !json {
            print(
                [
                    pad("backend", 44), pad("batch", 6, right: true), pad("tokens", 7, right: true),
                    pad("ms/batch", 10, right: true), pad("emb/s", 9, right: true),
                ].joined(separator: " "))
        }
        for preference in backendList {
            var options = EmbeddingModel.LoadOptions(backend: preference, batchSize: max(batchList.max() ?? 1, 1))
            if let batchTokens { options.maxBatchTokens = batchTokens }
            let embedder = try await EmbeddingModel.load(directory: model, options: options)
            for length in tokenList {
                for batch in batchList {
                    let texts = (0..<batch).map {
                        Self.sentence(tokens: length, seed: $0, tokenizer: embedder.tokenizer)
                    }
                    progress("\(embedder.deviceName): batch \(batch) × \(length) tokens…")
                    _ = try await embedder.embed(texts)
                    var times: [Double] = []
                    for _ in 0..<runs {
                        let start = ContinuousClock.now
                        _ = try await embedder.embed(texts)
                        times.append((ContinuousClock.now - start) / .seconds(1))
                    }
                    let seconds = median(times)
                    if profile, let queue = embedder.commandQueue {
                        queue.recorder.start()
                        let start = ContinuousClock.now
                        _ = try await embedder.embed(texts)
                        Self.printProfile(queue.recorder.stop(), wall: (ContinuousClock.now - start) / .seconds(1))
                    }
                    if json {
                        print(
                            jsonLine([
                                "backend": .string(preference.rawValue), "device": .string(embedder.deviceName),
                                "batch": .number(Double(batch)),
                                "tokens": .number(Double(length)), "ms_per_batch": .number(seconds * 1e3),
                                "embeddings_per_s": .number(Double(batch) / seconds),
                            ]))
                    } else {
                        print(
                            [
                                pad(embedder.deviceName, 44), pad("\(batch)", 6, right: true),
                                pad("\(length)", 7, right: true),
                                pad(format(seconds * 1e3, 2), 10, right: true),
                                pad(format(Double(batch) / seconds), 9, right: true),
                            ].joined(separator: " "))
                    }
                }
            }
        }
    }

    /// Device time per kernel over one recorded call, longest first, on standard error.
    static func printProfile(_ launches: [LaunchRecorder.Launch], wall: Double) {
        let byKernel = DeviceTimes(launches).byKernel
        let total = byKernel.values.reduce(0) { $0 + $1.seconds }
        progress(
            "  profile: \(launches.count) launches, device time \(format(total * 1e3)) ms of \(format(wall * 1e3)) ms wall"
        )
        for (name, entry) in byKernel.sorted(by: { $0.value.seconds > $1.value.seconds }) {
            progress(
                "    \(pad(name, 24)) \(pad(String(entry.count), 5, right: true)) launches \(pad(format(entry.seconds * 1e3, 2), 9, right: true)) ms \(pad(format(100 * entry.seconds / max(total, 1e-12)), 5, right: true)) %"
            )
        }
    }

    /// Words of the passage from word `seed` on, until the text has `tokens` ids with [CLS]/[SEP]
    /// (the same texts as Benchmarks/minilm_torch_peer.py).
    static func sentence(tokens: Int, seed: Int, tokenizer: WordPieceTokenizer) -> String {
        var words: [String] = []
        var index = seed
        while true {
            words.append(passage[index % passage.count])
            index += 1
            let text = words.joined(separator: " ")
            if tokenizer.encode(text).count >= tokens { return text }
        }
    }

    private func integers(_ list: String, _ what: String) throws -> [Int] {
        try list.split(separator: ",").map { text in
            guard let value = Int(text), value >= 1 else { throw ValidationError("'\(text)' is not a \(what)") }
            return value
        }
    }
}
