import COpenCL

/// An in-order command queue with profiling enabled. Owns the `cl_command_queue` handle.
///
/// Commands run in submission order; only ``read(_:)`` and ``finish()`` block. Kernel launches
/// are pipelined, so a sequence of kernels followed by one read costs one round trip.
public final class CommandQueue: Sendable {
    /// Sendable: OpenCL calls on a queue are thread-safe (OpenCL 3.0, appendix A.2); commands from
    /// several threads interleave in the order they were enqueued.
    nonisolated(unsafe) public let handle: cl_command_queue
    public let context: Context
    /// Records kernel launches while started, for profiling.
    public let recorder = LaunchRecorder()

    public init(context: Context) throws(CLError) {
        handle = try create("clCreateCommandQueue") {
            clCreateCommandQueue(context.handle, context.device.id, COPENCL_QUEUE_PROFILING_ENABLE, $0)
        }
        self.context = context
    }

    deinit { clReleaseCommandQueue(handle) }

    /// Copies `elements` into `buffer` starting at element `offset`; blocks until the copy is done.
    public func write<Element>(_ elements: [Element], to buffer: Buffer<Element>, offset: Int = 0) throws(CLError) {
        guard offset >= 0, offset + elements.count <= buffer.count else {
            throw CLError(
                code: CLError.invalidValue, call: "clEnqueueWriteBuffer",
                detail: "writing \(elements.count) elements at \(offset) overruns a buffer of \(buffer.count)")
        }
        let stride = MemoryLayout<Element>.stride
        let status = elements.withUnsafeBytes { raw in
            clEnqueueWriteBuffer(
                handle, buffer.handle, cl_bool(CL_TRUE), offset * stride, raw.count, raw.baseAddress, 0, nil, nil)
        }
        try check(status, "clEnqueueWriteBuffer")
    }

    /// Reads the whole of `buffer` back to the host, after every command queued before it.
    public func read<Element>(_ buffer: Buffer<Element>) throws(CLError) -> [Element] {
        try read(buffer, count: buffer.count)
    }

    /// Reads the first `count` elements of `buffer`.
    public func read<Element>(_ buffer: Buffer<Element>, count: Int) throws(CLError) -> [Element] {
        guard count > 0, count <= buffer.count else {
            throw CLError(
                code: CLError.invalidValue, call: "clEnqueueReadBuffer",
                detail: "cannot read \(count) of \(buffer.count) elements")
        }
        var status: cl_int = CL_SUCCESS
        let result = [Element](unsafeUninitializedCapacity: count) { storage, initialized in
            status = clEnqueueReadBuffer(
                handle, buffer.handle, cl_bool(CL_TRUE), 0, count * MemoryLayout<Element>.stride,
                storage.baseAddress, 0, nil, nil)
            initialized = status == CL_SUCCESS ? count : 0
        }
        try check(status, "clEnqueueReadBuffer")
        return result
    }

    /// Enqueues a device-side copy of `count` elements from `source` (starting at element
    /// `sourceOffset`) to `destination` (at `destinationOffset`), without waiting.
    @discardableResult
    public func copy<Element>(
        from source: Buffer<Element>, sourceOffset: Int = 0, to destination: Buffer<Element>,
        destinationOffset: Int = 0, count: Int
    ) throws(CLError) -> Event {
        guard count > 0, sourceOffset >= 0, destinationOffset >= 0,
            sourceOffset + count <= source.count, destinationOffset + count <= destination.count
        else {
            throw CLError(
                code: CLError.invalidValue, call: "clEnqueueCopyBuffer",
                detail:
                    "copying \(count) elements from \(sourceOffset) of \(source.count) to \(destinationOffset) of \(destination.count)"
            )
        }
        let stride = MemoryLayout<Element>.stride
        var event: cl_event?
        try check(
            clEnqueueCopyBuffer(
                handle, source.handle, destination.handle, sourceOffset * stride, destinationOffset * stride,
                count * stride, 0, nil, &event), "clEnqueueCopyBuffer")
        return Event(handle: event!)
    }

    /// Sets every element of `buffer` to `value`.
    @discardableResult
    public func fill<Element>(_ buffer: Buffer<Element>, with value: Element) throws(CLError) -> Event {
        var pattern = value
        var event: cl_event?
        let status = withUnsafeBytes(of: &pattern) { raw in
            clEnqueueFillBuffer(handle, buffer.handle, raw.baseAddress, raw.count, 0, buffer.byteCount, 0, nil, &event)
        }
        try check(status, "clEnqueueFillBuffer")
        return Event(handle: event!)
    }

    /// Launches `kernel` over an NDRange of `global` work-items in work-groups of `local`
    /// (or a driver-chosen size when `local` is nil), with `arguments` bound in order.
    @discardableResult
    public func enqueue(
        _ kernel: Kernel, global: [Int], local: [Int]? = nil, arguments: [any KernelArgument]
    ) throws(CLError) -> Event {
        guard (1...3).contains(global.count), local == nil || local!.count == global.count else {
            throw CLError(
                code: CL_INVALID_WORK_DIMENSION, call: "clEnqueueNDRangeKernel",
                detail: "kernel \(kernel.name): global \(global), local \(local ?? [])")
        }
        if let local {
            for (g, l) in zip(global, local) where l <= 0 || g % l != 0 {
                throw CLError(
                    code: CL_INVALID_WORK_GROUP_SIZE, call: "clEnqueueNDRangeKernel",
                    detail: "kernel \(kernel.name): global size \(global) is not a multiple of local size \(local)")
            }
        }
        return try kernel.withLock { () throws(CLError) -> Event in
            for (index, argument) in arguments.enumerated() {
                let status = argument.withArgumentBytes { size, pointer in
                    clSetKernelArg(kernel.handle, cl_uint(index), size, pointer)
                }
                try check(status, "clSetKernelArg(\(kernel.name), \(index))")
            }
            var event: cl_event?
            let status = local.withOptionalPointer { localPointer in
                clEnqueueNDRangeKernel(
                    handle, kernel.handle, cl_uint(global.count), nil, global, localPointer, 0, nil, &event)
            }
            try check(status, "clEnqueueNDRangeKernel(\(kernel.name))")
            let launched = Event(handle: event!)
            recorder.record(kernel.name, launched)
            LaunchCollection.current?.append(kernel.name)
            return launched
        }
    }

    /// Submits queued commands to the device without waiting.
    public func flush() throws(CLError) { try check(clFlush(handle), "clFlush") }

    /// Blocks until every queued command has completed.
    public func finish() throws(CLError) { try check(clFinish(handle), "clFinish") }
}

extension Optional where Wrapped == [Int] {
    func withOptionalPointer<R>(_ body: (UnsafePointer<Int>?) -> R) -> R {
        switch self {
        case .some(let array): array.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: body(nil)
        }
    }
}
