import ClinferOps
import Dispatch
import Foundation
import OpenCLKit
import Synchronization

/// A chat or completion model loaded from a GGUF file, ready to generate: the entry point of
/// the library.
///
/// ```swift
/// let model = try await LanguageModel.load(path: "models/SmolLM2-135M-Instruct.Q4_1.gguf")
/// for try await chunk in model.chat([ChatMessage(role: "user", content: "Hi!")]) {
///     print(chunk.text, terminator: "")
/// }
/// ```
///
/// Up to `LoadOptions.slots` sequences generate at once, advancing together one token per
/// batched forward pass; more queue up in order. Every call is safe from any thread or task. Cancelling the consuming task, or dropping the stream, stops generation
/// at the next token.
public final class LanguageModel: Sendable {
    /// Where and how to load.
    public struct LoadOptions: Sendable {
        /// OpenCL, CPU, or OpenCL when a device exists (default: `CLINFER_BACKEND`, else auto).
        public var backend: ComputeTarget.Preference
        /// Positions per sequence (prompt plus generated tokens); default min(model's, 4096).
        public var contextLength: Int?
        /// Sequences generated concurrently (each holds a KV cache of `contextLength` positions).
        public var slots: Int
        /// Sequences that may wait for a slot; one more makes `generate` fail with
        /// ``GenerationError/queueFull(waiting:)``.
        public var maxWaiting: Int
        /// Reuse the keys and values an idle slot still holds for a prompt that starts the same
        /// way (a chat's next turn prefills only the new messages).
        public var promptCache: Bool
        /// Memory for more idle slots than `slots`, holding earlier prompts for reuse (whole
        /// slots of `contextLength` positions; 0: only the `slots` themselves).
        public var promptCacheBytes: Int
        /// Prompt tokens prefilled per decode round at most while other sequences generate: a
        /// long prompt arriving delays their next token by one chunk's time, not the whole
        /// prompt's (with nothing else generating, a prompt runs in one pass).
        public var prefillChunk: Int
        /// How decode matmuls over 4-bit weights read their activations on OpenCL: quantized to
        /// int8 for integer dot products (the default, faster) or exact fp32 (see
        /// ``GEMVActivations``; the CPU backend always computes exactly).
        public var activations: GEMVActivations

        public init(
            backend: ComputeTarget.Preference = .fromEnvironment, contextLength: Int? = nil, slots: Int = 1,
            maxWaiting: Int = 64, promptCache: Bool = true, promptCacheBytes: Int = 0, prefillChunk: Int = 256,
            activations: GEMVActivations = .default
        ) {
            self.backend = backend
            self.contextLength = contextLength
            self.slots = slots
            self.maxWaiting = maxWaiting
            self.promptCache = promptCache
            self.promptCacheBytes = promptCacheBytes
            self.prefillChunk = prefillChunk
            self.activations = activations
        }
    }

    public let path: String
    public let configuration: DecoderConfiguration
    public let tokenizer: Tokenizer
    /// The model's chat template (`.plain` when the file has none: ``chat(_:parameters:)`` then
    /// throws ``GenerationError/noChatTemplate``).
    public let chatTemplate: ChatTemplate
    /// Token ids that end a sequence (end-of-sequence and end-of-turn tokens).
    public let endTokens: Set<Int>
    /// The backend the model runs on ("opencl: <device>" or "cpu").
    public let deviceName: String
    /// Positions per sequence.
    public let contextLength: Int
    /// How many of the file's tensors each GGUF type holds ("Q4_1": 211, "F32": 61, …).
    public let tensorTypes: [String: Int]

    /// The OpenCL queue the model runs on (nil on the CPU backend), for the CLI's profiling: an
    /// OpenCLKit type, so not part of the engine's public API.
    package let commandQueue: CommandQueue?

    private let scheduler: GenerationScheduler

    /// Loads the model synchronously; `progress(done, total)` reports tensors read and uploaded.
    public init(
        path: String, options: LoadOptions = LoadOptions(), progress: @escaping (Int, Int) -> Void = { _, _ in }
    ) throws {
        let file = try GGUFFile(path: path)
        let configuration = try DecoderConfiguration(gguf: file)
        tokenizer = try Tokenizer(gguf: file)
        chatTemplate = try ChatTemplate(gguf: file)
        let total = 2 * (configuration.layers + 2)
        let weights = try DecoderWeights(gguf: file, configuration: configuration) { done, _ in progress(done, total) }
        let context = min(options.contextLength ?? min(configuration.contextLength, 4096), configuration.contextLength)
        guard context >= 1 else { throw GenerationError.invalidParameter("context length must be ≥ 1") }
        guard options.slots >= 1, options.maxWaiting >= 0, options.promptCacheBytes >= 0, options.prefillChunk >= 1
        else {
            throw GenerationError.invalidParameter(
                "slots and prefillChunk must be ≥ 1, maxWaiting and promptCacheBytes ≥ 0")
        }
        let slotBytes = 2 * configuration.layers * configuration.kvHeads * configuration.headDim * context * 4
        let cacheSlots = options.promptCache ? options.promptCacheBytes / slotBytes : 0
        let upload: (Int, Int) -> Void = { done, _ in progress(configuration.layers + 2 + done, total) }
        let makeDecoder: (_ slots: Int) throws -> any SequenceDecoder
        var queue: CommandQueue?
        switch try ComputeTarget.select(options.backend) {
        case .opencl(let backend):
            queue = backend.queue
            let model = try DecoderModel(
                configuration: configuration, weights: weights,
                ops: try OpenCLTransformerOps(backend: backend, activations: options.activations),
                maxPositions: context, progress: upload)
            makeDecoder = { try KVCacheDecoder(model: model, capacity: context, slots: $0) }
        case .cpu:
            let model = try DecoderModel(
                configuration: configuration, weights: weights, ops: CPUTransformerOps(), maxPositions: context,
                progress: upload)
            makeDecoder = { try KVCacheDecoder(model: model, capacity: context, slots: $0) }
        }
        let decoder = try makeDecoder(options.slots + cacheSlots)
        progress(total, total)
        self.path = path
        self.configuration = configuration
        self.deviceName = decoder.deviceName
        self.contextLength = context
        tensorTypes = Dictionary(file.tensors.map { ($0.type.name, 1) }, uniquingKeysWith: +)
        commandQueue = queue
        scheduler = GenerationScheduler(
            decoder: decoder, activeSlots: options.slots, promptCache: options.promptCache,
            prefillChunk: options.prefillChunk, makeScratch: { try makeDecoder(1) }, maxWaiting: options.maxWaiting)
        endTokens = Self.endTokens(tokenizer, chatTemplate)
    }

    /// Loads the model off the caller's executor.
    public static func load(
        path: String, options: LoadOptions = LoadOptions(),
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> LanguageModel {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result { try LanguageModel(path: path, options: options, progress: progress) })
            }
        }
    }

    /// Streams a continuation of `prompt` (tokenized with the model's BOS rule; special tokens in
    /// the text are recognised).
    public func generate(
        prompt: String, parameters: GenerationParameters = GenerationParameters()
    ) -> AsyncThrowingStream<GenerationChunk, any Error> {
        generate(tokens: tokenizer.encode(prompt), parameters: parameters)
    }

    /// Streams the assistant's reply to `messages`, rendered with the model's chat template.
    public func chat(
        _ messages: [ChatMessage], parameters: GenerationParameters = GenerationParameters()
    ) -> AsyncThrowingStream<GenerationChunk, any Error> {
        do {
            return generate(tokens: try chatTokens(messages), parameters: parameters)
        } catch {
            return AsyncThrowingStream { $0.finish(throwing: error) }
        }
    }

    /// The prompt tokens for `messages` with a generation prompt appended. Only the template's
    /// markup becomes control tokens; message text that spells one stays text. A model without
    /// a chat template (a base model) throws ``GenerationError/noChatTemplate``.
    public func chatTokens(_ messages: [ChatMessage]) throws -> [Int] {
        guard chatTemplate.format != .plain else { throw GenerationError.noChatTemplate }
        guard !messages.isEmpty else { throw GenerationError.emptyPrompt }
        return tokenizer.encode(chatTemplate.renderPrompt(messages, addGenerationPrompt: true))
    }

    deinit { scheduler.shutdown() }

    /// Returns once no sequence is running or waiting (cancelled ones stop at their next token),
    /// or after `timeout`. For a clean shutdown: a process must not exit while device work still runs.
    public func waitUntilIdle(timeout: Duration = .seconds(10)) async {
        let deadline = ContinuousClock.now + timeout
        while activeSequences + waitingSequences > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Sequences generating now, each in a slot.
    public var activeSequences: Int { scheduler.activeCount }
    /// Sequences waiting for a free slot.
    public var waitingSequences: Int { scheduler.waitingCount }

    /// Streams tokens after `prompt`. The stream fails at once with a ``GenerationError`` for an
    /// empty prompt, one that fills the context, invalid parameters, or a full wait queue.
    public func generate(
        tokens prompt: [Int], parameters: GenerationParameters = GenerationParameters()
    ) -> AsyncThrowingStream<GenerationChunk, any Error> {
        generate(tokens: prompt, parameters: parameters, count: 1)[0]
    }

    /// Streams `count` continuations of `prompt` (several samples of one request, OpenAI's `n`):
    /// the prompt runs once and every continuation starts from its KV cache. Continuation i
    /// samples with seed `parameters.seed + i` (each its own random seed without one). `count`
    /// is 1 up to ``LoadOptions/slots``; the continuations start together when that many slots
    /// are free. Errors as for one stream, on every stream.
    public func generate(
        tokens prompt: [Int], parameters: GenerationParameters = GenerationParameters(), count: Int
    ) -> [AsyncThrowingStream<GenerationChunk, any Error>] {
        let pairs = (0..<max(1, count)).map { _ in AsyncThrowingStream.makeStream(of: GenerationChunk.self) }
        let flags = pairs.map { _ in CancellationFlag() }
        for (pair, flag) in zip(pairs, flags) { pair.continuation.onTermination = { _ in flag.set() } }
        do {
            try parameters.validate()
            guard count >= 1 else { throw GenerationError.invalidParameter("count must be ≥ 1, got \(count)") }
            guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
            guard prompt.count < contextLength else {
                throw GenerationError.contextLengthExceeded(requested: prompt.count + 1, limit: contextLength)
            }
            if let bad = prompt.first(where: { !(0..<configuration.vocabularySize).contains($0) }) {
                throw GenerationError.invalidToken(bad, vocabularySize: configuration.vocabularySize)
            }
            let stopTokens = (parameters.ignoreEndOfSequence ? [] : endTokens).union(parameters.stopTokens)
            let group = zip(pairs, flags).enumerated().map { index, entry in
                let (pair, flag) = entry
                var own = parameters
                own.seed = parameters.seed.map { $0 &+ UInt64(index) }
                return SequenceState(
                    prompt: prompt, parameters: own, stopTokens: stopTokens, tokenizer: tokenizer, cancelled: flag,
                    emit: { pair.continuation.yield($0) },
                    finish: { error in
                        error.map { pair.continuation.finish(throwing: $0) } ?? pair.continuation.finish()
                    })
            }
            try scheduler.submit(group)
            for (pair, sequence) in zip(pairs, group) {
                pair.continuation.onTermination = { [scheduler, id = sequence.id, flag = sequence.cancelled] _ in
                    flag.set()
                    scheduler.withdraw(id)
                }
            }
        } catch {
            for pair in pairs { pair.continuation.finish(throwing: error) }
        }
        return pairs.map(\.stream)
    }

    /// Teacher-forced logits of every position of `tokens`, [tokens.count][vocabulary]: for
    /// scoring, perplexity and parity checks. Long inputs run as prompt chunks of `chunk`; the
    /// work runs between decode rounds, so it never disturbs running generations.
    public func logits(tokens: [Int], chunk: Int = 256) async throws -> [[Float]] {
        guard !tokens.isEmpty else { throw GenerationError.emptyPrompt }
        return try await scheduler.exclusive { decoder in try Self.teacherForced(tokens, chunk: chunk, decoder: decoder)
        }
    }

    /// ``logits(tokens:chunk:)`` for synchronous callers: blocks the calling thread.
    @available(*, noasync, message: "await logits(tokens:chunk:) instead")
    public func logits(tokens: [Int], chunk: Int = 256) throws -> [[Float]] {
        guard !tokens.isEmpty else { throw GenerationError.emptyPrompt }
        return try scheduler.exclusiveBlocking { decoder in
            try Self.teacherForced(tokens, chunk: chunk, decoder: decoder)
        }
    }

    /// The log-probability of each of `tokens` given the ones before it, with the `top` most
    /// likely alternatives at each position (0…``TokenLogprob/maxTop``); the first token has no
    /// context and gets nil. What `echo` with `logprobs` reports and what harnesses score
    /// multiple-choice answers with: the log-softmax of ``logits(tokens:chunk:)``, computed chunk
    /// by chunk so the vocabulary-wide rows are never all held at once.
    public func promptLogprobs(tokens: [Int], top: Int = 0, chunk: Int = 256) async throws -> [TokenLogprob?] {
        guard !tokens.isEmpty else { throw GenerationError.emptyPrompt }
        guard (0...TokenLogprob.maxTop).contains(top) else {
            throw GenerationError.invalidParameter("top must be in 0...\(TokenLogprob.maxTop), got \(top)")
        }
        return try await scheduler.exclusive { decoder in
            var result: [TokenLogprob?] = [nil]
            try Self.teacherForced(tokens, chunk: chunk, decoder: decoder) { position, row in
                if position + 1 < tokens.count {
                    result.append(TokenLogprob(token: tokens[position + 1], logits: row, top: top))
                }
            }
            return result
        }
    }

    private static func teacherForced(_ tokens: [Int], chunk: Int, decoder: any SequenceDecoder) throws -> [[Float]] {
        var rows: [[Float]] = []
        try teacherForced(tokens, chunk: chunk, decoder: decoder) { _, row in rows.append(Array(row)) }
        return rows
    }

    /// Prefills `tokens` in chunks of `chunk` into slot 0 and hands each position's logits row to
    /// `body` in order.
    private static func teacherForced(
        _ tokens: [Int], chunk: Int, decoder: any SequenceDecoder, body: (Int, ArraySlice<Float>) -> Void
    ) throws {
        decoder.reset(slot: 0)
        let vocabulary = decoder.configuration.vocabularySize
        for start in stride(from: 0, to: tokens.count, by: max(1, chunk)) {
            let part = Array(tokens[start..<min(tokens.count, start + chunk)])
            let flat = try decoder.prefill(part, slot: 0, logits: .all)
            for row in 0..<part.count { body(start + row, flat[row * vocabulary..<(row + 1) * vocabulary]) }
        }
    }
}

extension LanguageModel {
    /// End-of-sequence and end-of-turn tokens: the EOS id, the template's end-of-turn token, and
    /// the usual end markers of chat vocabularies when they are control tokens.
    static func endTokens(_ tokenizer: Tokenizer, _ template: ChatTemplate) -> Set<Int> {
        var ids = Set([tokenizer.eosID].compactMap { $0 })
        let markers =
            ["<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "</s>"]
            + [template.endOfTurn].compactMap { $0 }
        for marker in markers {
            if let id = tokenizer.id(of: marker), tokenizer.tokenType(id) == .control { ids.insert(id) }
        }
        return ids
    }
}

/// Set once when the consumer of a stream goes away.
final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
