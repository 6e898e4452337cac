import ClinferKernels
import OpenCLKit
import Synchronization

/// One OpenCL device ready for Clinfer's ops: context, in-order queue, and the kernels built so far.
///
/// There is exactly one per device per process (``shared(for:)``, ``make(_:)``): every model,
/// op and thread on a device enqueues on the same in-order queue, so the driver never runs two
/// launches of one kernel at the same time. Besides keeping one program memo, this is what keeps
/// PoCL 3.1 alive: its CPU driver looks a launch's machine code up by (kernel hash, local size,
/// grid width) but releases it by (kernel hash, local size) only, so two launches of the same
/// kernel in flight on different queues, the later one with a wider grid than any before, drive
/// a reference count below zero and abort the process
/// (`pocl_release_dlhandle_cache: Assertion 'found->ref_count > 0' failed`).
///
/// Programs are built on first use and memoised per (file, build options); with a
/// ``ProgramCache`` their binaries persist across processes, so a warm start compiles nothing.
public final class OpenCLBackend: Sendable {
    public let device: Device
    public let context: Context
    public let queue: CommandQueue
    public let programCache: ProgramCache?
    private let kernels = Mutex<[String: Kernel]>([:])

    /// The process's backends, one per device, created on first use.
    private static let registry = Mutex<[Device: OpenCLBackend]>([:])

    private init(device: Device, programCache: ProgramCache?) throws(CLError) {
        self.device = device
        context = try Context(device: device)
        queue = try CommandQueue(context: context)
        self.programCache = programCache
    }

    /// The process-wide backend of `device` (created, with the standard program cache, on first use).
    public static func shared(for device: Device) throws(CLError) -> OpenCLBackend {
        try registry.withLock { backends throws(CLError) -> OpenCLBackend in
            if let existing = backends[device] { return existing }
            let backend = try OpenCLBackend(device: device, programCache: .standard)
            backends[device] = backend
            return backend
        }
    }

    /// The backend of the device chosen by `selector`, or nil when the machine has no OpenCL device.
    public static func make(_ selector: DeviceSelector = .fromEnvironment) throws(CLError) -> OpenCLBackend? {
        guard let device = try OpenCL.device(selector) else { return nil }
        return try shared(for: device)
    }

    /// The kernel `function` (a generated constant, e.g. `.gemmPackB`), built with `options`
    /// (typically `-D` parameters). Builds and caches the program on first use.
    public func kernel(_ function: KernelFunction, options: String = "") throws(CLError) -> Kernel {
        let (name, file) = (function.name, function.file)
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
