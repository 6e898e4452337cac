import COpenCL

/// A value that can be passed to a kernel parameter: a buffer, a scalar, or local memory.
public protocol KernelArgument {
    /// Calls `body` with the argument's size and a pointer to its bytes (nil for local memory).
    func withArgumentBytes<R>(_ body: (Int, UnsafeRawPointer?) throws -> R) rethrows -> R
}

extension Buffer: KernelArgument {
    public func withArgumentBytes<R>(_ body: (Int, UnsafeRawPointer?) throws -> R) rethrows -> R {
        try withUnsafePointer(to: handle) { try body(MemoryLayout<cl_mem>.size, $0) }
    }
}

/// Scalars are passed by value.
public protocol ScalarKernelArgument: KernelArgument, BitwiseCopyable {}

extension ScalarKernelArgument {
    public func withArgumentBytes<R>(_ body: (Int, UnsafeRawPointer?) throws -> R) rethrows -> R {
        try withUnsafePointer(to: self) { try body(MemoryLayout<Self>.size, $0) }
    }
}

extension Int32: ScalarKernelArgument {}
extension UInt32: ScalarKernelArgument {}
extension Int64: ScalarKernelArgument {}
extension UInt64: ScalarKernelArgument {}
extension Float: ScalarKernelArgument {}

/// A `__local` buffer of the given size, allocated by the driver for each work-group.
public struct LocalMemory: KernelArgument {
    public let bytes: Int
    public init(bytes: Int) { self.bytes = bytes }
    public func withArgumentBytes<R>(_ body: (Int, UnsafeRawPointer?) throws -> R) rethrows -> R {
        try body(bytes, nil)
    }
}
