import OpenCLKit

/// The QKV split on an OpenCL device with `Kernels/qkv_split.cl`: one work-item per value of Q.
public struct OpenCLQKVSplit: QKVSplitOperation {
    public let backend: OpenCLBackend

    public init(backend: OpenCLBackend) { self.backend = backend }

    public func split(
        _ problem: QKVSplitProblem, qkv: DeviceTensor, bias: DeviceTensor?, q: DeviceTensor, k: DeviceTensor,
        v: DeviceTensor
    ) throws {
        try encode(problem, qkv: qkv, bias: bias, q: q, k: k, v: v)
    }

    /// Enqueues the split without waiting.
    @discardableResult
    public func encode(
        _ problem: QKVSplitProblem, qkv: DeviceTensor, bias: DeviceTensor?, q: DeviceTensor, k: DeviceTensor,
        v: DeviceTensor
    ) throws -> Event {
        try problem.validate(qkv: qkv, bias: bias, q: q, k: k, v: v)
        let kernel = try backend.kernel(.splitQkv, options: "-DHAS_BIAS=\(bias == nil ? 0 : 1)")
        var arguments: [any KernelArgument] = [
            Int32(problem.seq), Int32(problem.heads), Int32(problem.headDim), qkv.argument,
        ]
        if let bias { arguments.append(bias.argument) }
        arguments += [q.argument, k.argument, v.argument]
        return try backend.queue.enqueue(kernel, global: [problem.hidden, problem.tokens], arguments: arguments)
    }
}
