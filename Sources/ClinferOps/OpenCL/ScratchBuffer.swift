import OpenCLKit
import Synchronization

/// fp32 device memory an op reuses across calls (packed operands, permuted activations),
/// grown on demand. Reuse is safe on one in-order queue: a command enqueued later runs later,
/// and a buffer released while commands still use it lives until they are done.
final class ScratchBuffer: Sendable {
    private let storage = Mutex<DeviceTensor?>(nil)

    /// A tensor of exactly `count` elements (a view of a larger buffer when one exists).
    func tensor(count: Int, backend: OpenCLBackend) throws -> DeviceTensor {
        let buffer = try storage.withLock { stored throws -> DeviceTensor in
            if let existing = stored, existing.count >= count { return existing }
            let fresh = try DeviceTensor(backend: backend, count: count)
            stored = fresh
            return fresh
        }
        return count == buffer.count ? buffer : try DeviceTensor(.float32(buffer.float32Buffer.subBuffer(offset: 0, count: count)))
    }
}
