import COpenCL

/// The single chokepoint through which every OpenCL status code becomes a thrown ``CLError``.
///
/// `call` names the API for the error message; it defaults to the calling function so that
/// wrappers read `try check(clFinish(handle))`.
@inline(__always)
func check(_ status: cl_int, _ call: @autoclosure () -> String = #function) throws(CLError) {
    if status != CL_SUCCESS { throw CLError(code: status, call: call()) }
}

/// Calls an OpenCL creation function that reports its status through an out-parameter and
/// returns the handle, throwing when the status is an error or the handle is null.
@inline(__always)
func create<Handle>(
    _ call: String, _ body: (UnsafeMutablePointer<cl_int>) -> Handle?
) throws(CLError) -> Handle {
    var status: cl_int = CL_SUCCESS
    let handle = body(&status)
    try check(status, call)
    guard let handle else { throw CLError(code: CL_INVALID_VALUE, call: call, detail: "returned a null handle") }
    return handle
}

/// Reads a `clGet*Info` value of variable size (strings, arrays) with the size-then-data protocol.
func queryBytes(
    _ call: String, _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
) throws(CLError) -> [UInt8] {
    var size = 0
    try check(query(0, nil, &size), call)
    var bytes = [UInt8](repeating: 0, count: size)
    if size > 0 {
        let status = bytes.withUnsafeMutableBytes { query(size, $0.baseAddress, nil) }
        try check(status, call)
    }
    return bytes
}

/// Reads a NUL-terminated string info value.
func queryString(
    _ call: String, _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
) throws(CLError) -> String {
    let bytes = try queryBytes(call, query)
    let text = bytes.prefix { $0 != 0 }
    return String(decoding: text, as: UTF8.self).trimmingSpaces()
}

/// Reads a fixed-size info value (`cl_uint`, `cl_ulong`, `size_t`, …).
func queryValue<T: BitwiseCopyable>(
    _ call: String, _ type: T.Type = T.self,
    _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
) throws(CLError) -> T {
    let bytes = try queryBytes(call, query)
    guard bytes.count >= MemoryLayout<T>.size else {
        throw CLError(
            code: CL_INVALID_VALUE, call: call,
            detail: "info value has \(bytes.count) bytes, expected \(MemoryLayout<T>.size)")
    }
    return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
}

/// Reads an info value that is an array of fixed-size elements.
func queryArray<T: BitwiseCopyable>(
    _ call: String, _ type: T.Type = T.self,
    _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
) throws(CLError) -> [T] {
    let bytes = try queryBytes(call, query)
    let count = bytes.count / MemoryLayout<T>.stride
    return bytes.withUnsafeBytes { raw in
        (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.stride, as: T.self) }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
