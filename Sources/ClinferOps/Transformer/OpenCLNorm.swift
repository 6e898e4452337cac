import OpenCLKit

/// Row normalisation on an OpenCL device with `Kernels/norm.cl`: a work-group per row.
public struct OpenCLNorm: NormOperation {
    public let backend: OpenCLBackend
    /// Work-items per row: 1 on CPU devices (a work-item is a loop there), up to 64 elsewhere.
    public let workGroup: Int

    public init(backend: OpenCLBackend, workGroup: Int? = nil) throws(OpError) {
        let group = workGroup ?? (backend.device.type == .cpu ? 1 : min(64, backend.device.maxWorkGroupSize))
        guard group >= 1, group & (group - 1) == 0, group <= backend.device.maxWorkGroupSize else {
            throw .invalidConfiguration(
                kernel: "norm",
                detail: "work-group \(group) must be a power of two ≤ \(backend.device.maxWorkGroupSize)")
        }
        self.backend = backend
        self.workGroup = group
    }

    public func normalize(
        _ problem: NormProblem, x: DeviceTensor, residual: DeviceTensor?, weight: DeviceTensor, bias: DeviceTensor?,
        out: DeviceTensor
    ) throws {
        try encode(problem, x: x, residual: residual, weight: weight, bias: bias, out: out)
    }

    /// Enqueues the normalisation without waiting.
    @discardableResult
    public func encode(
        _ problem: NormProblem, x: DeviceTensor, residual: DeviceTensor?, weight: DeviceTensor, bias: DeviceTensor?,
        out: DeviceTensor
    ) throws -> Event {
        try problem.validate(x: x, residual: residual, weight: weight, bias: bias, out: out)
        let kernel = try backend.kernel(
            problem.kind == .rms ? .rmsNorm : .layerNorm,
            options: "-DWG=\(workGroup) -DHAS_RESIDUAL=\(residual == nil ? 0 : 1)")
        var arguments: [any KernelArgument] = [Int32(problem.width), problem.eps, x.argument]
        if let residual { arguments.append(residual.argument) }
        arguments.append(weight.argument)
        if let bias { arguments.append(bias.argument) }
        arguments.append(out.argument)
        return try backend.queue.enqueue(
            kernel, global: [problem.rows * workGroup], local: [workGroup], arguments: arguments)
    }
}
