import COpenCL

/// A built OpenCL program. Owns the `cl_program` handle.
public final class Program: Sendable {
    /// Where the executable came from: compiled from source now, or loaded from the disk cache.
    public enum Origin: Sendable, Equatable { case compiled, diskCache }

    /// Sendable: OpenCL calls on a built program are thread-safe (OpenCL 3.0, appendix A.2).
    nonisolated(unsafe) public let handle: cl_program
    public let context: Context
    public let options: String
    public let origin: Origin

    /// Builds `source` with `options` for the context's device, through `cache` when given.
    ///
    /// A compiler error throws ``CLError`` with `CL_BUILD_PROGRAM_FAILURE` and the build log
    /// in ``CLError/detail``.
    public convenience init(
        context: Context, source: String, options: String = "", cache: ProgramCache? = nil
    ) throws(CLError) {
        if let cache, let binary = cache.binary(source: source, options: options, device: context.device),
            let program = try? Program.fromBinary(context: context, binary: binary, options: options)
        {
            self.init(handle: program, context: context, options: options, origin: .diskCache)
            return
        }
        let program = try Program.fromSource(context: context, source: source, options: options)
        self.init(handle: program, context: context, options: options, origin: .compiled)
        if let cache, let binary = try? binary() {
            cache.store(binary, source: source, options: options, device: context.device)
        }
    }

    private init(handle: cl_program, context: Context, options: String, origin: Origin) {
        self.handle = handle
        self.context = context
        self.options = options
        self.origin = origin
    }

    deinit { clReleaseProgram(handle) }

    /// Creates the kernel named `name` (a `__kernel` function of the source).
    public func kernel(_ name: String) throws(CLError) -> Kernel {
        try Kernel(program: self, name: name)
    }

    /// The device binary (`CL_PROGRAM_BINARIES`) of the program's single device.
    public func binary() throws(CLError) -> [UInt8] {
        let size = try queryValue("clGetProgramInfo", Int.self) {
            clGetProgramInfo(handle, cl_program_info(CL_PROGRAM_BINARY_SIZES), $0, $1, $2)
        }
        guard size > 0 else {
            throw CLError(code: CL_INVALID_PROGRAM_EXECUTABLE, call: "clGetProgramInfo", detail: "empty binary")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let status = bytes.withUnsafeMutableBufferPointer { storage in
            var pointer: UnsafeMutablePointer<UInt8>? = storage.baseAddress
            return clGetProgramInfo(
                handle, cl_program_info(CL_PROGRAM_BINARIES), MemoryLayout<UnsafeMutablePointer<UInt8>>.size, &pointer,
                nil)
        }
        try check(status, "clGetProgramInfo")
        return bytes
    }

    private static func fromSource(context: Context, source: String, options: String) throws(CLError) -> cl_program {
        let program = try create("clCreateProgramWithSource") { status in
            source.withCString { text in
                var pointer: UnsafePointer<CChar>? = text
                return clCreateProgramWithSource(context.handle, 1, &pointer, nil, status)
            }
        }
        try build(program, context: context, options: options)
        return program
    }

    private static func fromBinary(context: Context, binary: [UInt8], options: String) throws(CLError) -> cl_program {
        var deviceID: cl_device_id? = context.device.id
        var binaryStatus: cl_int = CL_SUCCESS
        let program = try create("clCreateProgramWithBinary") { status in
            binary.withUnsafeBufferPointer { storage in
                var length = storage.count
                var pointer: UnsafePointer<UInt8>? = storage.baseAddress
                return clCreateProgramWithBinary(context.handle, 1, &deviceID, &length, &pointer, &binaryStatus, status)
            }
        }
        do throws(CLError) {
            try check(binaryStatus, "clCreateProgramWithBinary")
            try build(program, context: context, options: options)
        } catch {
            clReleaseProgram(program)
            throw error
        }
        return program
    }

    private static func build(_ program: cl_program, context: Context, options: String) throws(CLError) {
        var deviceID: cl_device_id? = context.device.id
        let status = clBuildProgram(program, 1, &deviceID, options, nil, nil)
        guard status == CL_SUCCESS else {
            let log =
                (try? queryString("clGetProgramBuildInfo") {
                    clGetProgramBuildInfo(
                        program, context.device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), $0, $1, $2)
                }) ?? "(no build log)"
            clReleaseProgram(program)
            throw CLError(code: status, call: "clBuildProgram", detail: "options: \(options)\nbuild log:\n\(log)")
        }
    }
}
