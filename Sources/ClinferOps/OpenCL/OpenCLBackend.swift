import ClinferKernels
import OpenCLKit
import Synchronization

/// One OpenCL device ready for Clinfer's ops: context, in-order queue, and the kernels built so far.
///
/// Programs are built on first use and memoised per (file, build options); with a
/// ``ProgramCache`` their binaries persist across processes, so a warm start compiles nothing.
public final class OpenCLBackend: Sendable {
    public let device: Device
    public let context: Context
    public let queue: CommandQueue
    public let programCache: ProgramCache?
    private let kernels = Mutex<[String: Kernel]>([:])

    public init(device: Device, programCache: ProgramCache? = .standard) throws(CLError) {
        self.device = device
        context = try Context(device: device)
        queue = try CommandQueue(context: context)
        self.programCache = programCache
    }

    /// A backend on the device chosen by `selector`, or nil when the machine has no OpenCL device.
    public static func make(_ selector: DeviceSelector = .fromEnvironment) throws(CLError) -> OpenCLBackend? {
        guard let device = try OpenCL.device(selector) else { return nil }
        return try OpenCLBackend(device: device)
    }

    /// The kernel `name` from `Kernels/<file>`, built with `options` (typically `-D` parameters).
    /// Builds and caches the program on first use.
    public func kernel(_ name: String, file: String, options: String = "") throws(CLError) -> Kernel {
        let key = "\(file)|\(options)|\(name)"
        if let kernel = kernels.withLock({ $0[key] }) { return kernel }
        guard let source = KernelSource.source(file) else {
            throw CLError.host("OpenCLBackend.kernel", "no embedded kernel file named \(file)")
        }
        let program = try Program(context: context, source: source, options: options, cache: programCache)
        let kernel = try program.kernel(name)
        return kernels.withLock { cache in
            if let existing = cache[key] { return existing }
            cache[key] = kernel
            return kernel
        }
    }
}
