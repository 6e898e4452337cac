import COpenCL

/// An OpenCL platform (one installed driver, e.g. PoCL or NVIDIA CUDA) and its devices.
public struct Platform: Sendable, Hashable {
    /// The platform handle. Platform handles are never released.
    nonisolated(unsafe) public let id: cl_platform_id
    public let name: String
    public let vendor: String
    public let version: String
    public let devices: [Device]

    init(id: cl_platform_id) throws(CLError) {
        self.id = id
        name = try queryString("clGetPlatformInfo") {
            clGetPlatformInfo(id, cl_platform_info(CL_PLATFORM_NAME), $0, $1, $2)
        }
        vendor = try queryString("clGetPlatformInfo") {
            clGetPlatformInfo(id, cl_platform_info(CL_PLATFORM_VENDOR), $0, $1, $2)
        }
        version = try queryString("clGetPlatformInfo") {
            clGetPlatformInfo(id, cl_platform_info(CL_PLATFORM_VERSION), $0, $1, $2)
        }
        var count: cl_uint = 0
        let status = clGetDeviceIDs(id, COPENCL_DEVICE_TYPE_ALL, 0, nil, &count)
        if status == CL_DEVICE_NOT_FOUND || count == 0 {
            devices = []
            return
        }
        try check(status, "clGetDeviceIDs")
        var ids = [cl_device_id?](repeating: nil, count: Int(count))
        try check(clGetDeviceIDs(id, COPENCL_DEVICE_TYPE_ALL, count, &ids, nil), "clGetDeviceIDs")
        let platformName = name
        var found: [Device] = []
        for deviceID in ids.compactMap({ $0 }) {
            found.append(try Device(id: deviceID, platformName: platformName, platformVersion: version))
        }
        devices = found
    }

    public static func == (lhs: Platform, rhs: Platform) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(id))))
    }
}

/// Process-wide OpenCL discovery.
///
/// Platforms and devices are enumerated exactly once per process: PoCL 3.1 answers
/// `CL_DEVICE_NOT_FOUND` to all but one of several threads that discover at the same time, and
/// Swift Testing runs tests in parallel in one process.
public enum OpenCL {
    private static let discovery: Result<[Platform], CLError> = {
        do throws(CLError) {
            var count: cl_uint = 0
            let status = clGetPlatformIDs(0, nil, &count)
            if status == CLError.platformNotFound || count == 0 { return .success([]) }
            try check(status, "clGetPlatformIDs")
            var ids = [cl_platform_id?](repeating: nil, count: Int(count))
            try check(clGetPlatformIDs(count, &ids, nil), "clGetPlatformIDs")
            var platforms: [Platform] = []
            for id in ids.compactMap({ $0 }) { platforms.append(try Platform(id: id)) }
            return .success(platforms)
        } catch {
            return .failure(error)
        }
    }()

    /// Every platform the ICD loader knows, with its devices. Empty when no driver is installed.
    public static func platforms() throws(CLError) -> [Platform] {
        try discovery.get()
    }

    /// Every device of every platform, in platform order.
    public static func devices() throws(CLError) -> [Device] {
        try platforms().flatMap(\.devices)
    }

    /// The device chosen by `selector` (see ``DeviceSelector``), or `nil` when there is none.
    public static func device(_ selector: DeviceSelector = .fromEnvironment) throws(CLError) -> Device? {
        try selector.select(from: devices())
    }
}
