/// The keys and values one sequence has produced so far, per layer [kvHeads, capacity, headDim]
/// on the backend, and how many positions are filled. A cache belongs to one sequence; the
/// model appends to it on every forward pass.
public final class KVCache<Backend: InferenceBackend>: @unchecked Sendable {
    public let capacity: Int
    public internal(set) var length = 0
    let keys: [Backend.Tensor]
    let values: [Backend.Tensor]

    init(backend: Backend, layers: Int, kvHeads: Int, headDim: Int, capacity: Int) throws {
        self.capacity = capacity
        keys = try (0..<layers).map { _ in try backend.cacheTensor(count: kvHeads * capacity * headDim) }
        values = try (0..<layers).map { _ in try backend.cacheTensor(count: kvHeads * capacity * headDim) }
    }

    /// Forgets every position (the memory is reused by the next sequence).
    public func reset() { length = 0 }

    /// Keeps only the first `count` positions (e.g. a shared prompt prefix).
    public func truncate(to count: Int) { length = min(length, max(0, count)) }
}
