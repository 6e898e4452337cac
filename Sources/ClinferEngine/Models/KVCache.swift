/// The keys and values of up to `sequences` sequences (the slots of a cache pool), per layer
/// [sequences, kvHeads, capacity, headDim] on the backend, and how many positions each has
/// filled. Pooling the slots in one tensor per layer is what lets one decode step attend every
/// running sequence in a single launch. The model appends to a sequence on every forward pass.
public final class KVCache<Backend: InferenceBackend>: @unchecked Sendable {
    /// Positions per sequence.
    public let capacity: Int
    /// Sequences (slots) the cache holds.
    public let sequences: Int
    /// Positions filled, per sequence.
    public internal(set) var lengths: [Int]
    let keys: [Backend.Tensor]
    let values: [Backend.Tensor]

    init(backend: Backend, layers: Int, kvHeads: Int, headDim: Int, capacity: Int, sequences: Int = 1) throws {
        self.capacity = capacity
        self.sequences = sequences
        lengths = Array(repeating: 0, count: sequences)
        let count = sequences * kvHeads * capacity * headDim
        keys = try (0..<layers).map { _ in try backend.cacheTensor(count: count) }
        values = try (0..<layers).map { _ in try backend.cacheTensor(count: count) }
    }

    /// Positions filled in the first sequence (the only one of a single-sequence cache).
    public var length: Int { lengths[0] }

    /// Forgets every position of every sequence.
    public func reset() { lengths = Array(repeating: 0, count: sequences) }

    /// Forgets the positions of sequence `slot` (its memory is reused by the next sequence there).
    public func reset(slot: Int) { lengths[slot] = 0 }

    /// Keeps only the first `count` positions of sequence `slot` (e.g. a shared prompt prefix).
    public func truncate(to count: Int, slot: Int = 0) { lengths[slot] = min(lengths[slot], max(0, count)) }
}
