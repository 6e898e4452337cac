import OpenCLKit
import Synchronization

/// fp32 device memory an op reuses across calls (packed operands, permuted activations),
/// grown on demand.
///
/// Sendable: a caller holds the buffer, through ``withTensor(count:backend:_:)``, from the first
/// to the last enqueue of the commands that use it. Every op on a device enqueues on that
/// device's one in-order queue, so two threads' uses run one after the other on the device and
/// never overlap in the memory; a buffer replaced while commands still use it lives until they
/// are done.
final class ScratchBuffer: Sendable {
    private let storage = Mutex<DeviceTensor?>(nil)

    /// Runs `body` with a tensor of exactly `count` elements (a view of a larger buffer when one
    /// exists), holding the buffer until `body` returns: `body` enqueues every command that
    /// reads or writes it.
    func withTensor<R: Sendable>(count: Int, backend: OpenCLBackend, _ body: (DeviceTensor) throws -> R) throws -> R {
        try storage.withLock { stored throws -> R in
            let buffer: DeviceTensor
            if let existing = stored, existing.count >= count {
                buffer = existing
            } else {
                buffer = try DeviceTensor(backend: backend, count: count)
                stored = buffer
            }
            let view =
                count == buffer.count
                ? buffer : try DeviceTensor(.float32(buffer.float32Buffer.subBuffer(offset: 0, count: count)))
            return try body(view)
        }
    }
}
