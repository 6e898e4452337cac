import COpenCL

/// An error reported by OpenCL, or by Clinfer's host layer on OpenCL's behalf.
///
/// It carries the status code, its symbolic name (`CL_OUT_OF_RESOURCES`), the API call that
/// failed and, for program builds, the compiler's build log, so a failure reads the same in a
/// test log, a server log and a terminal.
public struct CLError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The OpenCL status code (negative), or ``hostFailureCode`` for host-side failures.
    public let code: Int32
    /// The OpenCL call (or host operation) that failed, e.g. `clBuildProgram`.
    public let call: String
    /// Extra context: the build log for build failures, the offending value for invalid input.
    public let detail: String?

    public init(code: Int32, call: String, detail: String? = nil) {
        self.code = code
        self.call = call
        self.detail = detail
    }

    /// The symbolic name of ``code``, e.g. `CL_BUILD_PROGRAM_FAILURE`.
    public var name: String {
        if code == Self.hostFailureCode { return "CLINFER_HOST_ERROR" }
        return copencl_error_name(code).map { String(cString: $0) } ?? "CL_UNKNOWN_ERROR(\(code))"
    }

    public var description: String {
        var text = "\(call) failed: \(name) (\(code))"
        if let detail, !detail.isEmpty { text += "\n\(detail)" }
        return text
    }

    /// The code used for failures detected by the host layer rather than returned by OpenCL.
    public static let hostFailureCode: Int32 = -9999

    /// A host-side failure (bad argument, size mismatch) described in `detail`.
    public static func host(_ call: String, _ detail: String) -> CLError {
        CLError(code: hostFailureCode, call: call, detail: detail)
    }
}

extension CLError {
    /// The corresponding C error is `CL_DEVICE_NOT_FOUND`.
    public static let deviceNotFound: Int32 = CL_DEVICE_NOT_FOUND
    /// The corresponding C error is `CL_BUILD_PROGRAM_FAILURE`.
    public static let buildProgramFailure: Int32 = CL_BUILD_PROGRAM_FAILURE
    /// The corresponding C error is `CL_OUT_OF_RESOURCES`.
    public static let outOfResources: Int32 = CL_OUT_OF_RESOURCES
    /// The corresponding C error is `CL_INVALID_VALUE`.
    public static let invalidValue: Int32 = CL_INVALID_VALUE
    /// The corresponding C error is `CL_INVALID_BUFFER_SIZE`.
    public static let invalidBufferSize: Int32 = CL_INVALID_BUFFER_SIZE
    /// The corresponding C error is `CL_INVALID_WORK_GROUP_SIZE`.
    public static let invalidWorkGroupSize: Int32 = CL_INVALID_WORK_GROUP_SIZE
    /// The corresponding C error is `CL_INVALID_KERNEL_NAME`.
    public static let invalidKernelName: Int32 = CL_INVALID_KERNEL_NAME
    /// The ICD loader found no platform (`CL_PLATFORM_NOT_FOUND_KHR`).
    public static let platformNotFound: Int32 = -1001
}
