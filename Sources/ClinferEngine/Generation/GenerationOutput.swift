import Foundation

/// Why generation ended.
public enum FinishReason: String, Sendable, Codable {
    /// An end-of-sequence token or a stop string.
    case stop
    /// `maxTokens` were generated, or the context is full.
    case length
    /// The consumer stopped listening or the task was cancelled.
    case cancelled
}

/// Timings of one generation, the numbers `clinfer generate --stats-json` prints.
public struct GenerationStats: Sendable, Codable, Hashable {
    public var promptTokens: Int
    /// Prompt tokens whose keys and values were found in the prompt cache (not prefilled).
    public var cachedPromptTokens = 0
    /// Forward passes the prompt took: 1, or its chunks when it was prefilled between other
    /// sequences' tokens (``LanguageModel/LoadOptions/prefillChunk``).
    public var promptPasses = 0
    public var promptSeconds: Double
    public var decodeTokens: Int
    public var decodeSeconds: Double
    public var device: String
    /// Time spent waiting for a free slot before the prompt ran.
    public var queueSeconds: Double = 0

    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(decodeTokens) / decodeSeconds : 0 }
}

/// One step of a streamed generation: newly decoded text (possibly empty while a multi-byte
/// character or a possible stop string is incomplete) and, on the last chunk, why it ended.
public struct GenerationChunk: Sendable {
    /// The token generated at this step (nil on the final chunk).
    public var token: Int?
    /// The token's log-probability and alternatives, when ``GenerationParameters/logprobs`` asks.
    public var logprob: TokenLogprob?
    /// Text released at this step.
    public var text: String
    /// Set on the final chunk only.
    public var finishReason: FinishReason?
    /// Set on the final chunk only.
    public var stats: GenerationStats?
}

/// A whole generation, collected.
public struct GenerationResult: Sendable {
    public var text: String
    public var tokens: [Int]
    public var finishReason: FinishReason
    public var stats: GenerationStats
}

extension AsyncThrowingStream where Element == GenerationChunk {
    /// Collects the stream into one result.
    public func collect() async throws -> GenerationResult {
        var text = "", tokens: [Int] = [], reason: FinishReason?
        var stats = GenerationStats(
            promptTokens: 0, promptSeconds: 0, decodeTokens: 0, decodeSeconds: 0, device: "", queueSeconds: 0)
        for try await chunk in self {
            text += chunk.text
            if let token = chunk.token { tokens.append(token) }
            if let finish = chunk.finishReason { reason = finish }
            if let final = chunk.stats { stats = final }
        }
        // No final chunk: the consuming task was cancelled.
        return GenerationResult(text: text, tokens: tokens, finishReason: reason ?? .cancelled, stats: stats)
    }
}
