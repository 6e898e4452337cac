import ClinferOps
import Dispatch
import Foundation
import OpenCLKit
import Synchronization

/// A sentence-embedding model (a sentence-transformers BERT directory such as
/// all-MiniLM-L6-v2): texts in, one vector per text out.
///
/// ```swift
/// let model = try await EmbeddingModel.load(directory: "models/all-MiniLM-L6-v2")
/// let vectors = try await model.embed(["A man is playing a guitar.", "Someone plays music."])
/// let cosine = zip(vectors[0], vectors[1]).reduce(0) { $0 + $1.0 * $1.1 }   // unit vectors
/// ```
///
/// The directory holds `config.json` (BERT), `model.safetensors`, the tokenizer
/// (`tokenizer.json` or `vocab.txt`) and, for sentence-transformers models, `modules.json` with
/// its pooling and normalisation and `sentence_bert_config.json` with the maximum sequence
/// length (longer texts are truncated, as sentence-transformers does). Texts run in batches of
/// up to `batchSize` texts and `maxBatchTokens` padded tokens, sorted by length so each batch
/// pads little; the result keeps the input order.
/// Calls are safe from any thread or task and run one batch at a time.
public final class EmbeddingModel: Sendable {
    /// Where and how to load.
    public struct LoadOptions: Sendable {
        /// OpenCL, CPU, or OpenCL when a device exists (default: `CLINFER_BACKEND`, else auto).
        public var backend: ComputeTarget.Preference
        /// Texts per forward pass at most (default 32).
        public var batchSize: Int
        /// Padded tokens (texts × longest text) per forward pass at most, unless one text alone
        /// is longer (default 512): bounds the activation memory, and on a CPU device keeps the
        /// projections' activations in cache.
        public var maxBatchTokens: Int
        /// Tokens per text, `[CLS]` and `[SEP]` included (default: the model directory's
        /// `max_seq_length`, at most the position table).
        public var maxSequenceLength: Int?

        public init(
            backend: ComputeTarget.Preference = .fromEnvironment, batchSize: Int = 32, maxBatchTokens: Int = 512,
            maxSequenceLength: Int? = nil
        ) {
            self.backend = backend
            self.batchSize = batchSize
            self.maxBatchTokens = maxBatchTokens
            self.maxSequenceLength = maxSequenceLength
        }
    }

    public let directory: String
    public let configuration: BertConfiguration
    public let tokenizer: WordPieceTokenizer
    public let pooling: SentencePooling
    /// The length of every embedding.
    public let dimension: Int
    /// The backend the model runs on ("opencl: <device>" or "cpu").
    public let deviceName: String
    /// Tokens per text at most (`[CLS]` and `[SEP]` included); longer texts are truncated.
    public let maxSequenceLength: Int
    /// Texts per forward pass at most.
    public let batchSize: Int
    /// Padded tokens per forward pass at most (one text longer than this runs alone).
    public let maxBatchTokens: Int
    /// The OpenCL queue the model runs on (nil on the CPU backend), for the CLI's profiling: an
    /// OpenCLKit type, so not part of the engine's public API.
    package let commandQueue: CommandQueue?

    private let encoder: Mutex<any BertEncoder>
    private let worker = DispatchQueue(label: "clinfer.embedding-model")

    /// Loads the model synchronously.
    ///
    /// Throws `ModelFormatError` for a missing, unreadable or unsupported file in the directory
    /// (naming it), `TokenizerError` for an unusable vocabulary, and `CLError` when OpenCL is
    /// asked for and no device exists.
    public init(directory: String, options: LoadOptions = LoadOptions()) throws {
        guard options.batchSize >= 1, options.maxBatchTokens >= 1 else {
            throw GenerationError.invalidParameter("batch size and tokens per batch must be ≥ 1")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelFormatError.missing(path: directory, detail: "no such model directory")
        }
        let (pooling, transformer) = try SentencePooling.load(directory: directory)
        func file(_ name: String, in folder: String = transformer) throws(ModelFormatError) -> String {
            let path = (folder as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path) else {
                throw .missing(path: folder, detail: "\(name) is missing from the model directory")
            }
            return path
        }
        let configPath = try file("config.json")
        let configuration = try BertConfiguration(json: try modelFileData(configPath), path: configPath)
        let tokenizer = try WordPieceTokenizer(directory: transformer)
        guard tokenizer.vocabularySize <= configuration.vocabularySize else {
            throw ModelFormatError.corrupt(
                path: transformer,
                detail:
                    "the tokenizer has \(tokenizer.vocabularySize) tokens, the model \(configuration.vocabularySize)")
        }
        let weights = try BertWeights(
            safetensors: try SafetensorsFile(path: try file("model.safetensors")), configuration: configuration)
        let declared = try Self.declaredMaxSequenceLength(directory: directory, transformer: transformer)
        let length = min(
            options.maxSequenceLength ?? declared ?? configuration.maxPositions, configuration.maxPositions)
        guard length >= 2 else {
            throw GenerationError.invalidParameter("max sequence length must be ≥ 2 ([CLS] and [SEP])")
        }
        let encoder: any BertEncoder
        switch try ComputeTarget.select(options.backend) {
        case .opencl(let backend):
            encoder = try BertModel(
                configuration: configuration, weights: weights, ops: try OpenCLTransformerOps(backend: backend))
            commandQueue = backend.queue
        case .cpu:
            encoder = try BertModel(configuration: configuration, weights: weights, ops: CPUTransformerOps())
            commandQueue = nil
        }
        self.directory = directory
        self.configuration = configuration
        self.tokenizer = tokenizer
        self.pooling = pooling
        dimension = pooling.dimension(hidden: configuration.hidden)
        deviceName = encoder.deviceName
        maxSequenceLength = length
        batchSize = options.batchSize
        maxBatchTokens = options.maxBatchTokens
        self.encoder = Mutex(encoder)
    }

    /// Loads the model off the caller's executor.
    public static func load(directory: String, options: LoadOptions = LoadOptions()) async throws -> EmbeddingModel {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try EmbeddingModel(directory: directory, options: options) })
            }
        }
    }

    /// One embedding per text, in order (``dimension`` values each; unit length when the model
    /// normalises). An empty list gives an empty list; an empty text embeds `[CLS] [SEP]`.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        try await embed(prepare(texts))
    }

    /// Texts tokenized for ``embed(_:)-(EmbeddingInput)``, so a caller can count their tokens
    /// (usage, limits) before the model runs, without tokenizing twice.
    public func prepare(_ texts: [String]) -> EmbeddingInput {
        EmbeddingInput(sequences: texts.map(tokenize))
    }

    /// One embedding per prepared text, in order. Requests run one at a time; cancelling the
    /// calling task returns at once with `CancellationError`, and the work stops before its next
    /// batch (or never starts, if it was still waiting for an earlier request).
    public func embed(_ input: EmbeddingInput) async throws -> [[Float]] {
        let job = EmbeddingJob()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard job.start(continuation) else { return }
                worker.async { [self] in
                    guard !job.isCancelled else { return }
                    job.finish(Result { try run(input.sequences, cancelled: job) })
                }
            }
        } onCancel: {
            job.cancel()
        }
    }

    /// Returns once every request accepted before this call has stopped running, cancelled ones
    /// included (a cancelled request returns at once, but the batch it was in finishes on the
    /// device). For a clean shutdown: a process must not exit while device work still runs.
    public func waitUntilIdle() async {
        await withCheckedContinuation { continuation in worker.async { continuation.resume() } }
    }

    /// ``embed(_:)`` for synchronous callers: blocks until the embeddings are ready.
    public func embeddings(_ texts: [String]) throws -> [[Float]] {
        let input = prepare(texts)
        return try worker.sync { try run(input.sequences, cancelled: nil) }
    }

    /// The token ids each text runs as (`[CLS]` … `[SEP]`, truncated to ``maxSequenceLength``).
    public func tokenize(_ text: String) -> [Int] { tokenizer.encode(text, maxLength: maxSequenceLength) }

    private func run(_ sequences: [[Int]], cancelled: EmbeddingJob?) throws -> [[Float]] {
        // Longest first, so each batch's texts have similar lengths and little padding.
        let order = sequences.indices.sorted { a, b in
            sequences[a].count != sequences[b].count ? sequences[a].count > sequences[b].count : a < b
        }
        var result = [[Float]](repeating: [], count: sequences.count)
        try encoder.withLock { encoder in
            var start = 0
            while start < order.count {
                if cancelled?.isCancelled == true { throw CancellationError() }
                // As many texts as fit the limits, spread evenly over the passes the rest needs
                // (33 texts of 17 tokens: 17 + 16, not 30 + 3).
                let longest = sequences[order[start]].count, remaining = order.count - start
                let fit = max(1, min(batchSize, maxBatchTokens / longest))
                let passes = (remaining + fit - 1) / fit
                let members = Array(order[start..<start + (remaining + passes - 1) / passes])
                start += members.count
                let batch = WordPieceBatch(sequences: members.map { sequences[$0] }, paddingID: tokenizer.paddingID)
                let states = try encoder.forward(batch)
                let vectors = pooling.pool(
                    states, lengths: batch.lengths, sequenceLength: batch.sequenceLength, width: configuration.hidden)
                for (member, vector) in zip(members, vectors) { result[member] = vector }
            }
        }
        return result
    }

    /// `max_seq_length` of `sentence_bert_config.json`, else the tokenizer config's
    /// `model_max_length` when it is a real bound; nil when neither says.
    private static func declaredMaxSequenceLength(
        directory: String, transformer: String
    ) throws(ModelFormatError) -> Int? {
        for folder in [directory, transformer] {
            let path = (folder as NSString).appendingPathComponent("sentence_bert_config.json")
            if FileManager.default.fileExists(atPath: path),
                let length = try modelJSONObject(try modelFileData(path), path: path)["max_seq_length"] as? Int
            {
                return length
            }
        }
        let path = (transformer as NSString).appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: path),
            let length = try modelJSONObject(try modelFileData(path), path: path)["model_max_length"] as? Int,
            length < 1_000_000
        {
            return length
        }
        return nil
    }
}

/// A BERT encoder with its ops type erased, so the public API needs no generics.
protocol BertEncoder: AnyObject {
    var deviceName: String { get }
    func forward(_ batch: WordPieceBatch) throws -> [Float]
}

extension BertModel: BertEncoder {
    var deviceName: String { ops.name }
}
