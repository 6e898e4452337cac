/// How tokens are chosen and when generation stops. The defaults are llama.cpp's usual ones;
/// `temperature == 0` is greedy decoding, deterministic.
public struct GenerationParameters: Sendable, Hashable, Codable {
    /// Tokens to generate at most.
    public var maxTokens: Int
    /// Logits are divided by this before sampling; 0 picks the most likely token.
    public var temperature: Float
    /// Keep only the k most likely tokens (0: all).
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches p (1: all).
    public var topP: Float
    /// Drop tokens whose probability is below minP × the top token's (0: none).
    public var minP: Float
    /// Divide positive (multiply negative) logits of recently seen tokens by this (1: off).
    public var repetitionPenalty: Float
    /// Subtract `presencePenalty` once and `frequencyPenalty` per occurrence from the logits of
    /// tokens generated so far (OpenAI's penalties; 0: off).
    public var presencePenalty: Float
    public var frequencyPenalty: Float
    /// How many recent tokens the penalties look at.
    public var penaltyWindow: Int
    /// Seed of the sampler's random stream (nil: a random seed).
    public var seed: UInt64?
    /// Generation stops when any of these strings appears; it is not part of the output.
    public var stop: [String]
    /// Extra token ids that end generation (the model's end-of-sequence tokens always do).
    public var stopTokens: [Int]
    /// Keep going past end-of-sequence tokens (benchmarks that need a fixed token count).
    public var ignoreEndOfSequence: Bool
    /// Report each generated token's log-probability with this many most likely alternatives
    /// (0…``TokenLogprob/maxTop``) in ``GenerationChunk/logprob``; nil: off.
    public var logprobs: Int?
    /// Constrain the output to JSON (any object, or a schema's values); nil: free text.
    public var responseFormat: ResponseFormat?

    public init(
        maxTokens: Int = 256, temperature: Float = 0.8, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
        repetitionPenalty: Float = 1, presencePenalty: Float = 0, frequencyPenalty: Float = 0, penaltyWindow: Int = 64,
        seed: UInt64? = nil, stop: [String] = [], stopTokens: [Int] = [], ignoreEndOfSequence: Bool = false,
        logprobs: Int? = nil, responseFormat: ResponseFormat? = nil
    ) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.penaltyWindow = penaltyWindow
        self.seed = seed
        self.stop = stop
        self.stopTokens = stopTokens
        self.ignoreEndOfSequence = ignoreEndOfSequence
        self.logprobs = logprobs
        self.responseFormat = responseFormat
    }

    /// Greedy decoding: always the most likely token.
    public static func greedy(maxTokens: Int = 256) -> GenerationParameters {
        GenerationParameters(maxTokens: maxTokens, temperature: 0)
    }

    /// Throws ``GenerationError/invalidParameter(_:)`` for out-of-range values.
    public func validate() throws(GenerationError) {
        func fail(_ detail: String) -> GenerationError { .invalidParameter(detail) }
        guard maxTokens >= 0 else { throw fail("maxTokens must be ≥ 0, got \(maxTokens)") }
        guard temperature >= 0, temperature.isFinite else { throw fail("temperature must be ≥ 0, got \(temperature)") }
        guard topK >= 0 else { throw fail("topK must be ≥ 0, got \(topK)") }
        guard topP > 0, topP <= 1 else { throw fail("topP must be in (0, 1], got \(topP)") }
        guard minP >= 0, minP <= 1 else { throw fail("minP must be in [0, 1], got \(minP)") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else {
            throw fail("repetitionPenalty must be > 0, got \(repetitionPenalty)")
        }
        guard presencePenalty.isFinite, frequencyPenalty.isFinite, abs(presencePenalty) <= 2, abs(frequencyPenalty) <= 2
        else {
            throw fail("presence and frequency penalties must be in [-2, 2]")
        }
        guard penaltyWindow >= 0 else { throw fail("penaltyWindow must be ≥ 0") }
        guard !stop.contains(where: \.isEmpty) else { throw fail("stop strings must not be empty") }
        if let logprobs, !(0...TokenLogprob.maxTop).contains(logprobs) {
            throw fail("logprobs must be in 0...\(TokenLogprob.maxTop), got \(logprobs)")
        }
    }
}
