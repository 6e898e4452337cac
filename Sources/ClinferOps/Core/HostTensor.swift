import Synchronization

/// A flat, row-major array of values in host memory: the operand type of the CPU backend, and
/// what device tensors are uploaded from and downloaded to.
///
/// Sendable: the values sit behind a lock, and ops read and replace them whole.
public final class HostTensor: Sendable {
    /// The stored values.
    public typealias Storage = TypedStorage<[Float], [Float16]>

    private let values: Mutex<Storage>

    /// The stored values (a copy-on-write array: reading shares it, assigning replaces it).
    public var storage: Storage {
        get { values.withLock { $0 } }
        set { values.withLock { $0 = newValue } }
    }

    public init(_ values: [Float]) { self.values = Mutex(.float32(values)) }
    public init(halves: [Float16]) { values = Mutex(.float16(halves)) }

    /// A tensor of `count` zeros.
    public init(zeros count: Int, type: ElementType = .float32) {
        switch type {
        case .float32: values = Mutex(.float32([Float](repeating: 0, count: count)))
        case .float16: values = Mutex(.float16([Float16](repeating: 0, count: count)))
        }
    }

    public var elementType: ElementType { storage.elementType }
    public var count: Int { storage.count }

    /// The values widened to fp32.
    public var floats: [Float] {
        switch storage {
        case .float32(let values): values
        case .float16(let values): values.map(Float.init)
        }
    }

    /// The values as fp32, leaving the tensor empty until the caller stores them back: an
    /// in-place update of a large tensor (a KV cache) without copying it.
    public func takeFloats() -> [Float] {
        values.withLock { stored in
            defer { stored = .float32([]) }
            switch stored {
            case .float32(let values): return values
            case .float16(let values): return values.map(Float.init)
            }
        }
    }

    /// A copy stored as `type` (rounding to nearest when narrowing to fp16).
    public func converted(to type: ElementType) -> HostTensor {
        switch (storage, type) {
        case (.float32(let values), .float16): HostTensor(halves: values.map(Float16.init))
        case (.float16(let values), .float32): HostTensor(values.map(Float.init))
        default: HostTensor(storage: storage)
        }
    }

    private init(storage: Storage) { values = Mutex(storage) }
}
