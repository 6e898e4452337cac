/// A flat, row-major array of values in host memory: the operand type of the CPU backend, and
/// what device tensors are uploaded from and downloaded to.
public final class HostTensor: @unchecked Sendable {
    /// The stored values.
    public typealias Storage = TypedStorage<[Float], [Float16]>

    public var storage: Storage

    public init(_ values: [Float]) { storage = .float32(values) }
    public init(halves: [Float16]) { storage = .float16(halves) }

    /// A tensor of `count` zeros.
    public init(zeros count: Int, type: ElementType = .float32) {
        switch type {
        case .float32: storage = .float32([Float](repeating: 0, count: count))
        case .float16: storage = .float16([Float16](repeating: 0, count: count))
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
        defer { storage = .float32([]) }
        return floats
    }

    /// A copy stored as `type` (rounding to nearest when narrowing to fp16).
    public func converted(to type: ElementType) -> HostTensor {
        switch (storage, type) {
        case (.float32(let values), .float16): HostTensor(halves: values.map(Float16.init))
        case (.float16(let values), .float32): HostTensor(values.map(Float.init))
        default: HostTensor(storage: storage)
        }
    }

    private init(storage: Storage) { self.storage = storage }
}
