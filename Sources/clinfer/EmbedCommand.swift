import ArgumentParser
import ClinferEngine
import ClinferOps
import Foundation

/// `clinfer embed --model DIR TEXT...`: sentence embeddings of the texts and their pairwise
/// cosine similarities, or with `--json` one JSON array of the vectors.
struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed texts with a sentence-transformers BERT model; print cosine similarities or the vectors.",
        discussion: """
            The model directory holds config.json, model.safetensors, the tokenizer (tokenizer.json or vocab.txt) and, \
            for sentence-transformers models, modules.json with the pooling and normalisation (`make models` fetches \
            all-MiniLM-L6-v2). Texts longer than the model's max_seq_length are truncated. Without TEXT arguments, each \
            line of standard input is one text.
            """)

    @Option(name: .long, help: "Model directory (default: the fetched all-MiniLM-L6-v2).")
    var model = EmbedCommand.defaultModel

    @Option(
        name: .long,
        help:
            "Where the model runs: auto (OpenCL when a device exists), opencl or cpu; the OpenCL device is $CLINFER_DEVICE."
    )
    var device: ComputeTarget.Preference = .fromEnvironment

    @Option(name: .long, help: "Texts per forward pass at most.")
    var batchSize = 32

    @Option(name: .long, help: "Padded tokens per forward pass at most.")
    var batchTokens = 512

    @Flag(
        name: .long,
        help: "Print one JSON array of embeddings (one array of numbers per text, in order) instead of similarities.")
    var json = false

    @Argument(help: "The texts to embed.")
    var texts: [String] = []

    static let defaultModel = "models/all-MiniLM-L6-v2"

    func run() async throws {
        let inputs = texts.isEmpty ? Self.standardInputLines() : texts
        guard !inputs.isEmpty else { throw ValidationError("give at least one TEXT (or lines on standard input)") }
        guard FileManager.default.fileExists(atPath: model) else {
            throw ValidationError(
                "no model directory at \(model); run `make models` (or scripts/fetch-models.sh) to fetch all-MiniLM-L6-v2"
            )
        }
        let embedder = try await EmbeddingModel.load(
            directory: model, options: .init(backend: device, batchSize: batchSize, maxBatchTokens: batchTokens))
        let start = ContinuousClock.now
        let vectors = try await embedder.embed(inputs)
        let elapsed = ContinuousClock.now - start
        let milliseconds = elapsed.seconds * 1e3
        progress(
            "embedded \(inputs.count) text\(inputs.count == 1 ? "" : "s") (\(embedder.dimension) dimensions) on \(embedder.deviceName) in \(format(milliseconds)) ms"
        )
        if json {
            print(
                "[" + vectors.map { "[" + $0.map { "\($0)" }.joined(separator: ", ") + "]" }.joined(separator: ",\n ")
                    + "]")
            return
        }
        for (index, text) in inputs.enumerated() {
            print(
                "[\(index + 1)] \(text.replacingOccurrences(of: "\n", with: " ")) (\(embedder.tokenize(text).count) tokens)"
            )
        }
        guard inputs.count > 1 else {
            print("one text: nothing to compare (--json prints the vector)")
            return
        }
        print("cosine similarity:")
        let width = 8
        print(pad("", 5) + (1...inputs.count).map { pad("[\($0)]", width, right: true) }.joined())
        for (row, a) in vectors.enumerated() {
            let cells = vectors.map { b in pad(format(Double(Self.cosine(a, b)), 4), width, right: true) }
            print(pad("[\(row + 1)]", 5) + cells.joined())
        }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for (x, y) in zip(a, b) {
            dot += x * y
            na += x * x
            nb += y * y
        }
        return dot / max((na * nb).squareRoot(), 1e-12)
    }

    private static func standardInputLines() -> [String] {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map(
            String.init)
    }
}
