import COpenCL

/// A typed region of device memory holding `count` values of `Element`.
///
/// Owns its `cl_mem` handle (released in `deinit`). A sub-buffer keeps its parent alive.
public final class Buffer<Element: BitwiseCopyable>: Sendable {
    /// How kernels may use the memory; a hint to the driver.
    public enum Access: Sendable {
        case readWrite, readOnly, writeOnly

        var flags: cl_mem_flags {
            switch self {
            case .readWrite: COPENCL_MEM_READ_WRITE
            case .readOnly: COPENCL_MEM_READ_ONLY
            case .writeOnly: COPENCL_MEM_WRITE_ONLY
            }
        }
    }

    /// Sendable: OpenCL calls on a memory object are thread-safe (OpenCL 3.0, appendix A.2).
    nonisolated(unsafe) public let handle: cl_mem
    public let count: Int
    public let context: Context
    private let parent: Buffer<Element>?

    /// The size in bytes.
    public var byteCount: Int { count * MemoryLayout<Element>.stride }

    init(context: Context, count: Int, access: Access) throws(CLError) {
        try Self.validate(count: count, device: context.device)
        handle = try create("clCreateBuffer") {
            clCreateBuffer(context.handle, access.flags, count * MemoryLayout<Element>.stride, nil, $0)
        }
        self.count = count
        self.context = context
        parent = nil
    }

    init(context: Context, copying elements: [Element], access: Access) throws(CLError) {
        try Self.validate(count: elements.count, device: context.device)
        let bytes = elements.count * MemoryLayout<Element>.stride
        handle = try create("clCreateBuffer") { status in
            elements.withUnsafeBytes { raw in
                clCreateBuffer(
                    context.handle, access.flags | COPENCL_MEM_COPY_HOST_PTR, bytes,
                    UnsafeMutableRawPointer(mutating: raw.baseAddress), status)
            }
        }
        count = elements.count
        self.context = context
        parent = nil
    }

    private init(subBufferOf parent: Buffer<Element>, handle: cl_mem, count: Int) {
        self.handle = handle
        self.count = count
        context = parent.context
        self.parent = parent
    }

    deinit { clReleaseMemObject(handle) }

    private static func validate(count: Int, device: Device) throws(CLError) {
        let bytes = count.multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
        guard count > 0, !bytes.overflow else {
            throw CLError(
                code: CLError.invalidBufferSize, call: "clCreateBuffer",
                detail: "cannot allocate \(count) elements of \(Element.self)")
        }
        guard bytes.partialValue <= device.maxAllocationBytes else {
            throw CLError(
                code: CLError.invalidBufferSize, call: "clCreateBuffer",
                detail: "\(bytes.partialValue) bytes exceed the device's max allocation of \(device.maxAllocationBytes)"
            )
        }
    }

    /// A view of `count` elements starting at element `offset`, sharing this buffer's memory.
    ///
    /// The byte offset must be a multiple of the device's base address alignment
    /// (`CL_DEVICE_MEM_BASE_ADDR_ALIGN`), as OpenCL requires.
    public func subBuffer(offset: Int, count: Int) throws(CLError) -> Buffer<Element> {
        guard offset >= 0, count > 0, offset + count <= self.count else {
            throw CLError(
                code: CL_INVALID_VALUE, call: "clCreateSubBuffer",
                detail: "range \(offset)..<\(offset + count) is outside a buffer of \(self.count) elements")
        }
        let stride = MemoryLayout<Element>.stride
        let alignment = max(1, context.device.baseAddressAlignment)
        guard (offset * stride) % alignment == 0 else {
            throw CLError(
                code: CL_MISALIGNED_SUB_BUFFER_OFFSET, call: "clCreateSubBuffer",
                detail: "byte offset \(offset * stride) is not a multiple of the device alignment \(alignment)")
        }
        var region = cl_buffer_region(origin: offset * stride, size: count * stride)
        let sub = try create("clCreateSubBuffer") {
            clCreateSubBuffer(handle, 0, cl_buffer_create_type(CL_BUFFER_CREATE_TYPE_REGION), &region, $0)
        }
        return Buffer(subBufferOf: self, handle: sub, count: count)
    }
}
