import ClinferEngine
import ClinferOps

/// The few places the server meets the engine's continuous-batching API (slots and a wait queue
/// in `LanguageModel.LoadOptions`, `GenerationError.queueFull`, `activeSequences` and
/// `waitingSequences`), kept in one file.
enum EngineAdapter {
    /// Load options with `slots` sequences generated at once and `maxWaiting` waiting for a slot.
    static func loadOptions(backend: ComputeBackend.Preference, contextLength: Int?, slots: Int, maxWaiting: Int) -> LanguageModel.LoadOptions {
        LanguageModel.LoadOptions(backend: backend, contextLength: contextLength, slots: slots, maxWaiting: maxWaiting)
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
