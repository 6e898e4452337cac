import OpenCLKit
import Synchronization

/// Small int arrays a kernel reads (key lengths, cache slots, token placements), kept on the
/// device while the same values come back: a model passes the same arrays to every layer of a
/// forward pass, so one upload serves them all. Replacing the cached buffer is safe on an
/// in-order queue: a released buffer lives until the kernels using it finish.
final class IndexUploads: Sendable {
    private let cache = Mutex<(values: [Int32], buffer: Buffer<Int32>)?>(nil)

    /// A read-only device copy of `values`.
    func buffer(_ values: [Int], backend: OpenCLBackend) throws -> Buffer<Int32> {
        let narrowed = values.map { Int32(truncatingIfNeeded: $0) }
        return try cache.withLock { cached throws -> Buffer<Int32> in
            if let cached, cached.values == narrowed { return cached.buffer }
            let buffer = try backend.context.buffer(copying: narrowed, access: .readOnly)
            cached = (narrowed, buffer)
            return buffer
        }
    }
}
