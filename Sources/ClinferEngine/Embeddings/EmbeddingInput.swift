import Synchronization

/// Texts tokenized for an ``EmbeddingModel`` (``EmbeddingModel/prepare(_:)``).
public struct EmbeddingInput: Sendable {
    /// The token ids of each text, `[CLS]` … `[SEP]`, truncated to the model's length.
    let sequences: [[Int]]

    /// Texts in the input.
    public var count: Int { sequences.count }
    /// Tokens over all texts, as OpenAI's `usage.prompt_tokens` counts them.
    public var tokenCount: Int { sequences.reduce(0) { $0 + $1.count } }
}

/// One ``EmbeddingModel/embed(_:)-(EmbeddingInput)`` call: its continuation, resumed exactly once
/// (with the result, or with `CancellationError` as soon as the caller is cancelled), and the
/// flag the worker checks between batches.
final class EmbeddingJob: Sendable {
    private struct State {
        var continuation: CheckedContinuation<[[Float]], any Error>?
        var cancelled = false
    }
    private let state = Mutex(State())

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Stores the continuation; false (after resuming it) when the caller is already cancelled.
    func start(_ continuation: CheckedContinuation<[[Float]], any Error>) -> Bool {
        let cancelled = state.withLock { state in
            if !state.cancelled { state.continuation = continuation }
            return state.cancelled
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    func finish(_ result: Result<[[Float]], any Error>) {
        state.withLock { $0.continuation.take() }?.resume(with: result)
    }

    func cancel() {
        state.withLock { state in
            state.cancelled = true
            return state.continuation.take()
        }?.resume(throwing: CancellationError())
    }
}
