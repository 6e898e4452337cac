/// A decoder with the KV cache of one sequence, with the backend type erased so the public API
/// needs no generics: ``LanguageModel`` drives generation through it.
protocol DecoderSession: AnyObject {
    var configuration: LlamaConfiguration { get }
    var deviceName: String { get }
    /// Positions the cache holds at most.
    var capacity: Int { get }
    /// Positions filled.
    var length: Int { get }
    func reset()
    func forward(_ tokens: [Int], logits: LogitsSelection) throws -> [Float]
}

/// ``DecoderSession`` over a ``LlamaModel`` on any backend.
final class LlamaSession<Backend: InferenceBackend>: DecoderSession {
    let model: LlamaModel<Backend>
    let cache: KVCache<Backend>

    init(model: LlamaModel<Backend>, capacity: Int) throws {
        self.model = model
        cache = try model.makeCache(capacity: capacity)
    }

    var configuration: LlamaConfiguration { model.configuration }
    var deviceName: String { model.backend.name }
    var capacity: Int { cache.capacity }
    var length: Int { cache.length }
    func reset() { cache.reset() }
    func forward(_ tokens: [Int], logits: LogitsSelection) throws -> [Float] { try model.forward(tokens, cache: cache, logits: logits) }
}
