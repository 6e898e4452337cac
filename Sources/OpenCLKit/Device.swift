import COpenCL

/// One OpenCL device with the limits and capabilities Clinfer plans kernels around.
///
/// Every value is read from the driver once, at discovery; kernels are sized from these
/// numbers, never from assumptions about a particular vendor.
public struct Device: Sendable, Hashable, CustomStringConvertible {
    /// The kind of processor behind a device.
    public enum Kind: String, Sendable, Codable { case cpu, gpu, accelerator, other }

    nonisolated(unsafe) public let id: cl_device_id
    public let name: String
    public let vendor: String
    public let type: Kind
    /// `CL_DEVICE_VERSION`, e.g. "OpenCL 3.0 PoCL ...".
    public let version: String
    /// `CL_DRIVER_VERSION`.
    public let driverVersion: String
    /// `CL_DEVICE_OPENCL_C_VERSION`.
    public let openCLCVersion: String
    public let platformName: String
    public let platformVersion: String
    public let computeUnits: Int
    public let maxClockMHz: Int
    public let maxWorkGroupSize: Int
    public let maxWorkItemSizes: [Int]
    public let localMemoryBytes: Int
    public let globalMemoryBytes: Int
    public let maxAllocationBytes: Int
    /// `CL_DEVICE_MEM_BASE_ADDR_ALIGN` in bytes (the driver reports bits).
    public let baseAddressAlignment: Int
    public let preferredFloatVectorWidth: Int
    public let extensions: Set<String>

    /// Whether `half` arithmetic is available (`cl_khr_fp16`). Storage via `vload_half` works without it.
    public var supportsFP16Arithmetic: Bool { extensions.contains("cl_khr_fp16") }
    public var supportsFP64: Bool { extensions.contains("cl_khr_fp64") }
    public var supportsSubgroups: Bool {
        extensions.contains("cl_khr_subgroups") || extensions.contains("cl_intel_subgroups")
    }

    /// A stable identity for caches and tuning files: device name, driver and platform version.
    public var cacheIdentity: String { "\(name)|\(driverVersion)|\(platformName)|\(platformVersion)" }

    public var description: String { "\(name) (\(platformName), \(type.rawValue), \(computeUnits) CUs)" }

    init(id: cl_device_id, platformName: String, platformVersion: String) throws(CLError) {
        func string(_ param: Int32) throws(CLError) -> String {
            try queryString("clGetDeviceInfo") { clGetDeviceInfo(id, cl_device_info(param), $0, $1, $2) }
        }
        func value<T: BitwiseCopyable>(_ param: Int32, _ type: T.Type) throws(CLError) -> T {
            try queryValue("clGetDeviceInfo", type) { clGetDeviceInfo(id, cl_device_info(param), $0, $1, $2) }
        }
        self.id = id
        self.platformName = platformName
        self.platformVersion = platformVersion
        name = try string(CL_DEVICE_NAME)
        vendor = try string(CL_DEVICE_VENDOR)
        version = try string(CL_DEVICE_VERSION)
        driverVersion = try string(CL_DRIVER_VERSION)
        openCLCVersion = try string(CL_DEVICE_OPENCL_C_VERSION)
        let rawType = try value(CL_DEVICE_TYPE, cl_device_type.self)
        type =
            rawType & COPENCL_DEVICE_TYPE_GPU != 0
            ? .gpu
            : rawType & COPENCL_DEVICE_TYPE_CPU != 0
                ? .cpu
                : rawType & COPENCL_DEVICE_TYPE_ACCELERATOR != 0 ? .accelerator : .other
        computeUnits = Int(try value(CL_DEVICE_MAX_COMPUTE_UNITS, cl_uint.self))
        maxClockMHz = Int(try value(CL_DEVICE_MAX_CLOCK_FREQUENCY, cl_uint.self))
        maxWorkGroupSize = try value(CL_DEVICE_MAX_WORK_GROUP_SIZE, Int.self)
        maxWorkItemSizes = try queryArray("clGetDeviceInfo", Int.self) {
            clGetDeviceInfo(id, cl_device_info(CL_DEVICE_MAX_WORK_ITEM_SIZES), $0, $1, $2)
        }
        localMemoryBytes = Int(try value(CL_DEVICE_LOCAL_MEM_SIZE, cl_ulong.self))
        globalMemoryBytes = Int(try value(CL_DEVICE_GLOBAL_MEM_SIZE, cl_ulong.self))
        maxAllocationBytes = Int(try value(CL_DEVICE_MAX_MEM_ALLOC_SIZE, cl_ulong.self))
        baseAddressAlignment = Int(try value(CL_DEVICE_MEM_BASE_ADDR_ALIGN, cl_uint.self)) / 8
        preferredFloatVectorWidth = Int(try value(CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, cl_uint.self))
        extensions = Set(try string(CL_DEVICE_EXTENSIONS).split(separator: " ").map(String.init))
    }

    public static func == (lhs: Device, rhs: Device) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(id))))
    }
}
