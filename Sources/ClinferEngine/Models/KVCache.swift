import Synchronization

/// The keys and values of up to `sequences` sequences (the slots of a cache pool), per layer
/// [sequences, kvHeads, capacity, headDim] on the ops, and how many positions each has
/// filled. Pooling the slots in one tensor per layer is what lets one decode step attend every
/// running sequence in a single launch. The model appends to a sequence on every forward pass.
///
/// Sendable: the lengths sit behind a lock; the keys and values are written only by the model's
/// forward passes, which run one at a time.
public final class KVCache<Ops: TransformerOps>: Sendable {
    /// Positions per sequence.
    public let capacity: Int
    /// Sequences (slots) the cache holds.
    public let sequences: Int
    private let filled: Mutex<[Int]>
    let keys: [Ops.Tensor]
    let values: [Ops.Tensor]
    private let kvHeads: Int
    private let headDim: Int

    init(ops: Ops, layers: Int, kvHeads: Int, headDim: Int, capacity: Int, sequences: Int = 1) throws {
        self.capacity = capacity
        self.sequences = sequences
        self.kvHeads = kvHeads
        self.headDim = headDim
        filled = Mutex(Array(repeating: 0, count: sequences))
        let count = sequences * kvHeads * capacity * headDim
        keys = try (0..<layers).map { _ in try ops.cacheTensor(count: count) }
        values = try (0..<layers).map { _ in try ops.cacheTensor(count: count) }
    }

    /// Positions filled, per sequence.
    public var lengths: [Int] { filled.withLock { $0 } }

    /// Positions filled in the first sequence (the only one of a single-sequence cache).
    public var length: Int { filled.withLock { $0[0] } }

    /// Positions filled in sequence `slot`.
    public func length(slot: Int) -> Int { filled.withLock { $0[slot] } }

    /// Forgets every position of every sequence.
    public func reset() { filled.withLock { $0 = Array(repeating: 0, count: sequences) } }

    /// Forgets the positions of sequence `slot` (its memory is reused by the next sequence there).
    public func reset(slot: Int) { setLength(0, slot: slot) }

    /// Keeps only the first `count` positions of sequence `slot` (e.g. a shared prompt prefix).
    public func truncate(to count: Int, slot: Int = 0) { filled.withLock { $0[slot] = min($0[slot], max(0, count)) } }

    /// Makes sequence `destination` hold the first `positions` keys and values of sequence
    /// `source` (a device-side copy, one per layer, K/V and KV head): sequences that continue one
    /// prompt prefill it once.
    func copyPrefix(_ positions: Int, from source: Int, to destination: Int, ops: Ops) throws {
        guard (0..<sequences).contains(source), (0..<sequences).contains(destination), source != destination,
            positions <= length(slot: source)
        else {
            throw GenerationError.invalidParameter(
                "cannot copy \(positions) positions from slot \(source) to slot \(destination) of \(sequences)")
        }
        if positions > 0 {
            func start(_ slot: Int, _ head: Int) -> Int { (slot * kvHeads + head) * capacity * headDim }
            for tensor in keys + values {
                for head in 0..<kvHeads {
                    try ops.copy(
                        tensor, offset: start(source, head), count: positions * headDim, to: tensor,
                        at: start(destination, head))
                }
            }
        }
        setLength(positions, slot: destination)
    }

    /// Records that sequence `slot` now holds `length` positions (after a forward pass).
    func setLength(_ length: Int, slot: Int) { filled.withLock { $0[slot] = length } }
}
