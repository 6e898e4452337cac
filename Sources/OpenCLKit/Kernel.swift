import COpenCL
import Synchronization

/// A kernel function of a built ``Program``. Owns the `cl_kernel` handle.
///
/// OpenCL calls are thread-safe except setting arguments and enqueueing on the same kernel
/// object, so ``CommandQueue/enqueue(_:global:local:arguments:)`` holds this kernel's lock
/// for that pair.
public final class Kernel: Sendable {
    /// Sendable: every OpenCL call but argument setting is thread-safe, and that goes through `lock`.
    nonisolated(unsafe) public let handle: cl_kernel
    public let name: String
    /// The program is retained so its binary outlives the kernel.
    public let program: Program
    private let lock = Mutex<Void>(())

    init(program: Program, name: String) throws(CLError) {
        handle = try create("clCreateKernel(\(name))") { status in
            name.withCString { clCreateKernel(program.handle, $0, status) }
        }
        self.name = name
        self.program = program
    }

    deinit { clReleaseKernel(handle) }

    /// The largest work-group this kernel can run with on the program's device
    /// (`CL_KERNEL_WORK_GROUP_SIZE`, often below the device maximum for register-heavy kernels).
    public func maxWorkGroupSize() throws(CLError) -> Int {
        try queryValue("clGetKernelWorkGroupInfo", Int.self) {
            clGetKernelWorkGroupInfo(
                handle, program.context.device.id, cl_kernel_work_group_info(CL_KERNEL_WORK_GROUP_SIZE), $0, $1, $2)
        }
    }

    func withLock<R>(_ body: () throws(CLError) -> R) throws(CLError) -> R {
        try lock.withLock { _ throws(CLError) -> R in try body() }
    }
}
