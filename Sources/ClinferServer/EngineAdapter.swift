import ClinferEngine
import ClinferOps

/// The few places the server meets the engine's continuous-batching API (slots and a wait queue
/// in `LanguageModel.LoadOptions`, `GenerationError.queueFull`, `activeSequences` and
/// `waitingSequences`), kept in one file.
enum EngineAdapter {
    /// The language model's load options for `configuration`: its slots, and a wait queue with
    /// room for everything the server's admission gate lets in (`--queue-size`) plus one more
    /// per slot for sequences still winding down when their request's place is already free.
    /// The gate decides who waits (429 past it); the engine never refuses what it admitted, so a
    /// streamed request never gets a 200 and then a queue-full error event.
    static func loadOptions(_ configuration: ServerConfiguration) -> LanguageModel.LoadOptions {
        LanguageModel.LoadOptions(backend: configuration.backend, contextLength: configuration.contextLength, slots: configuration.slots,
                                  maxWaiting: configuration.queueSize + configuration.slots)
    }

    /// The engine's own count of sequences decoding and waiting.
    static func sequenceCounts(_ model: LanguageModel) -> (active: Int, waiting: Int)? {
        (model.activeSequences, model.waitingSequences)
    }

    /// Whether `error` is the engine's "wait queue full" (answered 429).
    static func isQueueFull(_ error: any Error) -> Bool {
        if case .queueFull? = error as? GenerationError { return true }
        return false
    }
}
