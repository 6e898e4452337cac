import OpenCLKit

/// Values stored as fp32 or fp16 in some container: a host array (``HostTensor``) or a device
/// buffer (``DeviceTensor``). The element type and count are read here, once for both.
public enum TypedStorage<Float32Container: ElementContainer, Float16Container: ElementContainer> {
    case float32(Float32Container)
    case float16(Float16Container)

    public var elementType: ElementType {
        switch self {
        case .float32: .float32
        case .float16: .float16
        }
    }

    public var count: Int {
        switch self {
        case .float32(let values): values.count
        case .float16(let values): values.count
        }
    }
}

extension TypedStorage: Sendable where Float32Container: Sendable, Float16Container: Sendable {}

/// A container that knows how many elements it holds.
public protocol ElementContainer {
    var count: Int { get }
}

extension Array: ElementContainer {}
extension Buffer: ElementContainer {}
