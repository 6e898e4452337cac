import OpenCLKit

/// A flat, row-major array of values in device memory: the operand type of the OpenCL backend.
public final class DeviceTensor: TensorOperand, Sendable {
    /// The device buffer holding the values.
    public typealias Storage = TypedStorage<Buffer<Float>, Buffer<Float16>>

    public let storage: Storage

    public init(_ storage: Storage) { self.storage = storage }

    /// Allocates `count` uninitialised elements of `type`.
    public convenience init(backend: OpenCLBackend, count: Int, type: ElementType = .float32) throws(CLError) {
        switch type {
        case .float32: self.init(.float32(try backend.context.buffer(Float.self, count: count)))
        case .float16: self.init(.float16(try backend.context.buffer(Float16.self, count: count)))
        }
    }

    /// Uploads a copy of `host`, keeping its element type.
    public convenience init(backend: OpenCLBackend, copying host: HostTensor) throws(CLError) {
        switch host.storage {
        case .float32(let values): self.init(.float32(try backend.context.buffer(copying: values)))
        case .float16(let values): self.init(.float16(try backend.context.buffer(copying: values)))
        }
    }

    public var elementType: ElementType { storage.elementType }
    public var count: Int { storage.count }

    /// The fp32 buffer (the tensor must be fp32).
    var float32Buffer: Buffer<Float> {
        guard case .float32(let buffer) = storage else {
            preconditionFailure("float32Buffer of a \(elementType) tensor")
        }
        return buffer
    }

    /// The fp32 buffer, for host-layer commands (copies, fills); throws for an fp16 tensor.
    public var float32Storage: Buffer<Float> {
        get throws(OpError) {
            guard case .float32(let buffer) = storage else {
                throw .unsupportedType(op: "DeviceTensor", detail: "expected an f32 tensor, got \(elementType)")
            }
            return buffer
        }
    }

    /// The buffer, for binding as a kernel argument.
    public var argument: any KernelArgument {
        switch storage {
        case .float32(let buffer): buffer
        case .float16(let buffer): buffer
        }
    }

    /// Copies the values back to the host once every queued command before this call is done.
    public func download(_ queue: CommandQueue) throws(CLError) -> HostTensor {
        switch storage {
        case .float32(let buffer): HostTensor(try queue.read(buffer))
        case .float16(let buffer): HostTensor(halves: try queue.read(buffer))
        }
    }

    /// Overwrites the values with `host`'s (same element type and count).
    public func upload(_ host: HostTensor, _ queue: CommandQueue) throws {
        switch (storage, host.storage) {
        case (.float32(let buffer), .float32(let values)): try queue.write(values, to: buffer)
        case (.float16(let buffer), .float16(let values)): try queue.write(values, to: buffer)
        default:
            throw OpError.unsupportedType(
                op: "upload", detail: "cannot write \(host.elementType) values into a \(elementType) tensor")
        }
    }
}
