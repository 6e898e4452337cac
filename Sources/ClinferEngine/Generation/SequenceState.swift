/// One generation in flight: what it asked for, where it is, and where its output goes. The
/// scheduler advances it one token at a time in its slot's KV cache.
///
/// Not Sendable: the submitter owns it until ``GenerationScheduler/submit(_:)``, the scheduler's
/// thread after that; other threads only set its Sendable `cancelled` flag, or withdraw it by
/// ``id`` (the scheduler hands it back under its lock).
final class SequenceState {
    /// Names the sequence across threads (for ``GenerationScheduler/withdraw(_:)``).
    var id: ObjectIdentifier { ObjectIdentifier(self) }
    let prompt: [Int]
    let parameters: GenerationParameters
    let cancelled: CancellationFlag
    let emit: (GenerationChunk) -> Void
    let finish: ((any Error)?) -> Void
    let stopTokens: Set<Int>
    var sampler: Sampler
    var decoder: StreamingDecoder
    /// The JSON the output must be, when the parameters ask for it.
    var grammar: JSONGrammar?
    let tokenizer: Tokenizer
    var matcher: StopMatcher
    var history: [Int]
    var generated = 0
    /// The logits of the next token to sample.
    var logits: [Float] = []
    /// Prompt positions found in the slot's cache (not prefilled again).
    var cachedPromptTokens = 0
    /// Forward passes its prompt took.
    var promptPasses = 0
    /// Whether the sequence's keys and values are in its slot (it was prefilled).
    var wroteCache = false
    let queuedAt = ContinuousClock.now
    var startedAt = ContinuousClock.now, prefilledAt = ContinuousClock.now

    init(
        prompt: [Int], parameters: GenerationParameters, stopTokens: Set<Int>, tokenizer: Tokenizer,
        cancelled: CancellationFlag,
        emit: @escaping (GenerationChunk) -> Void, finish: @escaping ((any Error)?) -> Void
    ) {
        self.prompt = prompt
        self.parameters = parameters
        self.stopTokens = stopTokens
        self.cancelled = cancelled
        self.emit = emit
        self.finish = finish
        sampler = Sampler(parameters: parameters)
        decoder = tokenizer.streamingDecoder()
        grammar = parameters.responseFormat.map { JSONGrammar(schema: $0.schema) }
        self.tokenizer = tokenizer
        matcher = StopMatcher(stops: parameters.stop)
        history = prompt
    }

    /// Samples the next token and streams its text; returns why the sequence ended, or nil to go on
    /// (then `history.last` is the token to feed next).
    func advance(capacityLeft: Bool) throws -> FinishReason? {
        if cancelled.isSet { return .cancelled }
        guard generated < parameters.maxTokens else { return .length }
        if grammar?.isComplete == true { return .stop }
        let token: Int
        if let grammar {
            token = sampler.sample(logits, history: history) { [stopTokens, tokenizer] candidate in
                // The end only once the value is whole; control tokens never; text if it fits.
                if stopTokens.contains(candidate) { return grammar.canEnd }
                guard tokenizer.tokenType(candidate) != .control, let bytes = try? tokenizer.bytes(of: candidate),
                    !bytes.isEmpty
                else { return false }
                return grammar.accepts(bytes)
            }
            if !stopTokens.contains(token), let bytes = try? tokenizer.bytes(of: token) {
                for byte in bytes { self.grammar?.feed(byte) }
            }
        } else {
            token = sampler.sample(logits, history: history)
        }
        let logprob = parameters.logprobs.map { TokenLogprob(token: token, logits: logits, top: $0) }
        if stopTokens.contains(token) {
            // With log-probabilities the end token is reported too (no text), as vLLM does:
            // harnesses that score `echo` replies expect one entry per generated token.
            if let logprob {
                generated += 1
                emit(GenerationChunk(token: token, logprob: logprob, text: "", finishReason: nil, stats: nil))
            }
            return .stop
        }
        history.append(token)
        generated += 1
        let (text, stopped) = matcher.feed(try decoder.append(token))
        emit(GenerationChunk(token: token, logprob: logprob, text: text, finishReason: nil, stats: nil))
        if stopped || grammar?.isComplete == true { return .stop }
        return generated < parameters.maxTokens && capacityLeft ? nil : .length
    }

    /// Sends the final chunk (held-back text, reason, timings) and closes the stream.
    func complete(_ reason: FinishReason, device: String) {
        let finished = ContinuousClock.now
        let tail = reason == .stop ? "" : matcher.feed(decoder.flush()).release + matcher.flush()
        let stats = GenerationStats(
            promptTokens: prompt.count, cachedPromptTokens: cachedPromptTokens, promptPasses: promptPasses,
            promptSeconds: (prefilledAt - startedAt).seconds,
            decodeTokens: generated, decodeSeconds: (finished - prefilledAt).seconds, device: device,
            queueSeconds: (startedAt - queuedAt).seconds)
        emit(GenerationChunk(token: nil, text: tail, finishReason: reason, stats: stats))
        finish(nil)
    }
}
