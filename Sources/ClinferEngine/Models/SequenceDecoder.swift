/// A decoder with a pool of KV-cache slots, one sequence each, with the ops type erased so
/// the public API needs no generics: ``LanguageModel``'s scheduler drives generation through it.
protocol SequenceDecoder: AnyObject {
    var configuration: DecoderConfiguration { get }
    var deviceName: String { get }
    /// Sequences the cache holds.
    var slots: Int { get }
    /// Positions a sequence holds at most.
    var capacity: Int { get }
    /// Positions filled in sequence `slot`.
    func length(slot: Int) -> Int
    func reset(slot: Int)
    /// Keeps the first `count` positions of sequence `slot`.
    func truncate(slot: Int, to count: Int)
    /// Runs `tokens` after what sequence `slot` holds (a prompt, or scoring).
    func prefill(_ tokens: [Int], slot: Int, logits: LogitsSelection) throws -> [Float]
    /// Appends `tokens[i]` to sequence `slots[i]` in one batched forward pass; each one's logits.
    func decode(_ tokens: [Int], slots: [Int]) throws -> [[Float]]
    /// Appends each run's tokens to its sequence in one batched forward pass; each run's
    /// last-token logits.
    func prefill(_ runs: [(tokens: [Int], slot: Int)]) throws -> [[Float]]
    /// Makes sequence `destination` hold the first `positions` of sequence `source`.
    func copyPrefix(_ positions: Int, from source: Int, to destination: Int) throws
}

/// ``SequenceDecoder`` over a ``DecoderModel`` on either set of ops.
final class KVCacheDecoder<Ops: TransformerOps>: SequenceDecoder {
    let model: DecoderModel<Ops>
    let cache: KVCache<Ops>

    init(model: DecoderModel<Ops>, capacity: Int, slots: Int) throws {
        self.model = model
        cache = try model.makeCache(capacity: capacity, sequences: slots)
    }

    var configuration: DecoderConfiguration { model.configuration }
    var deviceName: String { model.ops.name }
    var slots: Int { cache.sequences }
    var capacity: Int { cache.capacity }
    func length(slot: Int) -> Int { cache.length(slot: slot) }
    func reset(slot: Int) { cache.reset(slot: slot) }
    func truncate(slot: Int, to count: Int) { cache.truncate(to: count, slot: slot) }

    func prefill(_ tokens: [Int], slot: Int, logits: LogitsSelection) throws -> [Float] {
        try model.forward(tokens, cache: cache, slot: slot, logits: logits)
    }

    func decode(_ tokens: [Int], slots: [Int]) throws -> [[Float]] {
        try model.decode(tokens, slots: slots, cache: cache)
    }

    func prefill(_ runs: [(tokens: [Int], slot: Int)]) throws -> [[Float]] {
        try model.prefill(runs, cache: cache)
    }

    func copyPrefix(_ positions: Int, from source: Int, to destination: Int) throws {
        try cache.copyPrefix(positions, from: source, to: destination, ops: model.ops)
    }
}
