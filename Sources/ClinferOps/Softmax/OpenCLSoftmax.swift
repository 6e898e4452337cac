import OpenCLKit

/// Softmax on an OpenCL device with `Kernels/softmax.cl`: one work-group per row.
public struct OpenCLSoftmax: SoftmaxOperation {
    /// The two-pass algorithm (reads the input twice) or the classic three passes.
    public enum Algorithm: String, Sendable, CaseIterable {
        case twoPass = "two_pass", threePass = "three_pass"
    }

    public let backend: OpenCLBackend
    public let algorithm: Algorithm
    /// Work-items per row (a power of two).
    public let workGroup: Int
    /// Vector width of each work-item's loads: 4, 8 or 16.
    public let vectorWidth: Int

    public init(
        backend: OpenCLBackend, algorithm: Algorithm = .twoPass, workGroup: Int? = nil, vectorWidth: Int = 8
    ) throws(OpError) {
        let group = workGroup ?? min(64, backend.device.maxWorkGroupSize)
        guard group >= 1, group & (group - 1) == 0, group <= backend.device.maxWorkGroupSize else {
            throw .invalidConfiguration(
                kernel: "softmax",
                detail: "work-group \(group) must be a power of two ≤ \(backend.device.maxWorkGroupSize)")
        }
        guard [4, 8, 16].contains(vectorWidth) else {
            throw .invalidConfiguration(kernel: "softmax", detail: "vector width \(vectorWidth) must be 4, 8 or 16")
        }
        self.backend = backend
        self.algorithm = algorithm
        self.workGroup = group
        self.vectorWidth = vectorWidth
    }

    public func softmax(_ problem: SoftmaxProblem, x: DeviceTensor, mask: DeviceTensor?, y: DeviceTensor) throws {
        try encode(problem, x: x, mask: mask, y: y)
    }

    /// Enqueues the softmax without waiting.
    @discardableResult
    public func encode(_ problem: SoftmaxProblem, x: DeviceTensor, mask: DeviceTensor?, y: DeviceTensor) throws -> Event
    {
        let maskPerRow = try problem.validate(x: x, y: y, mask: mask)
        let options =
            "-DWG=\(workGroup) -DVW=\(vectorWidth) -DHAS_MASK=\(mask == nil ? 0 : 1) -DMASK_ROWS=\(maskPerRow ? 1 : 0)"
        let kernel = try backend.kernel(algorithm == .twoPass ? .softmaxTwoPass : .softmaxThreePass, options: options)
        var arguments: [any KernelArgument] = [Int32(problem.n), problem.scale, x.argument]
        if let mask { arguments.append(mask.argument) }
        arguments.append(y.argument)
        return try backend.queue.enqueue(
            kernel, global: [problem.rows * workGroup], local: [workGroup], arguments: arguments)
    }
}
