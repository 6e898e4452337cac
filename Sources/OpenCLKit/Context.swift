import COpenCL

/// An OpenCL context on one device. Owns the `cl_context` handle and releases it in `deinit`.
public final class Context: Sendable {
    /// Sendable: OpenCL calls on a context are thread-safe (OpenCL 3.0, appendix A.2).
    nonisolated(unsafe) public let handle: cl_context
    public let device: Device

    /// Creates a context for `device`.
    public init(device: Device) throws(CLError) {
        var deviceID: cl_device_id? = device.id
        handle = try create("clCreateContext") { clCreateContext(nil, 1, &deviceID, nil, nil, $0) }
        self.device = device
    }

    deinit { clReleaseContext(handle) }

    /// Allocates a device buffer of `count` elements. Contents are undefined until written.
    public func buffer<Element: BitwiseCopyable>(
        _ type: Element.Type = Element.self, count: Int, access: Buffer<Element>.Access = .readWrite
    ) throws(CLError) -> Buffer<Element> {
        try Buffer(context: self, count: count, access: access)
    }

    /// Allocates a device buffer holding a copy of `elements`.
    public func buffer<Element: BitwiseCopyable>(
        copying elements: [Element], access: Buffer<Element>.Access = .readWrite
    ) throws(CLError) -> Buffer<Element> {
        try Buffer(context: self, copying: elements, access: access)
    }
}
