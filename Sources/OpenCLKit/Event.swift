import COpenCL

/// A command's completion event. Owns the `cl_event` handle.
///
/// Queues are created with profiling on, so every event can report how long its command ran on
/// the device, independent of host-side overhead.
public final class Event: Sendable {
    /// Sendable: OpenCL calls on an event are thread-safe (OpenCL 3.0, appendix A.2).
    nonisolated(unsafe) public let handle: cl_event

    init(handle: cl_event) { self.handle = handle }

    deinit { clReleaseEvent(handle) }

    /// Blocks the calling thread until the command completes; throws if it failed.
    public func wait() throws(CLError) {
        var handle: cl_event? = self.handle
        try check(clWaitForEvents(1, &handle), "clWaitForEvents")
    }

    /// Suspends until the command completes, without blocking a thread.
    public func completion() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let box = Unmanaged.passRetained(ContinuationBox(continuation))
            let status = clSetEventCallback(
                handle, CL_COMPLETE,
                { _, status, userData in
                    let box = Unmanaged<ContinuationBox>.fromOpaque(userData!).takeRetainedValue()
                    if status < 0 {
                        box.continuation.resume(throwing: CLError(code: status, call: "command execution"))
                    } else {
                        box.continuation.resume()
                    }
                }, box.toOpaque())
            if status != CL_SUCCESS {
                box.release()
                continuation.resume(throwing: CLError(code: status, call: "clSetEventCallback"))
            }
        }
    }

    /// The device time the command took, in seconds (from `CL_PROFILING_COMMAND_START` to `END`).
    /// Waits for completion first.
    public func deviceSeconds() throws(CLError) -> Double {
        try wait()
        let start = try profilingValue(CL_PROFILING_COMMAND_START)
        let end = try profilingValue(CL_PROFILING_COMMAND_END)
        return Double(end &- start) * 1e-9
    }

    func profilingValue(_ param: Int32) throws(CLError) -> UInt64 {
        try queryValue("clGetEventProfilingInfo", cl_ulong.self) {
            clGetEventProfilingInfo(handle, cl_profiling_info(param), $0, $1, $2)
        }
    }
}

/// The events of a sequence of commands on one in-order queue (e.g. a pack kernel and a GEMM),
/// so the sequence can be awaited and timed as one operation.
public struct EventSpan: Sendable {
    public let first: Event
    public let last: Event

    public init(_ event: Event) {
        first = event
        last = event
    }

    public init(first: Event, last: Event) {
        self.first = first
        self.last = last
    }

    /// Blocks until the last command completes.
    public func wait() throws(CLError) { try last.wait() }

    /// Device seconds from the start of the first command to the end of the last.
    public func deviceSeconds() throws(CLError) -> Double {
        try last.wait()
        let start = try first.profilingValue(CL_PROFILING_COMMAND_START)
        let end = try last.profilingValue(CL_PROFILING_COMMAND_END)
        return Double(end &- start) * 1e-9
    }
}

private final class ContinuationBox: Sendable {
    let continuation: CheckedContinuation<Void, any Error>
    init(_ continuation: CheckedContinuation<Void, any Error>) { self.continuation = continuation }
}
