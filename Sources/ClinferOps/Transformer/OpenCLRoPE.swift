import OpenCLKit

/// RoPE on an OpenCL device with `Kernels/rope.cl`; the cos/sin table lives on the device.
public struct OpenCLRoPE: RoPEOperation {
    public let backend: OpenCLBackend
    public let table: RoPETable
    private let cosines: Buffer<Float>, sines: Buffer<Float>
    private let placements = IndexUploads()

    public init(backend: OpenCLBackend, table: RoPETable) throws(CLError) {
        self.backend = backend
        self.table = table
        cosines = try backend.context.buffer(copying: table.cos, access: .readOnly)
        sines = try backend.context.buffer(copying: table.sin, access: .readOnly)
    }

    public func apply(
        _ problem: RoPEProblem, qkv: DeviceTensor, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor,
        qNorm: DeviceTensor?, kNorm: DeviceTensor?
    ) throws {
        try encode(problem, qkv: qkv, q: q, k: k, v: v, qNorm: qNorm, kNorm: kNorm)
    }

    /// Enqueues the rotation and cache append without waiting.
    @discardableResult
    public func encode(
        _ problem: RoPEProblem, qkv: DeviceTensor, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor,
        qNorm: DeviceTensor? = nil, kNorm: DeviceTensor? = nil
    ) throws -> Event {
        try problem.validate(qkv: qkv, table: table, q: q, k: k, v: v, qNorm: qNorm, kNorm: kNorm)
        let headNorm = problem.headNormEps != nil
        if headNorm, problem.headDim / 2 > backend.device.maxWorkGroupSize {
            throw OpError.invalidConfiguration(
                kernel: "rope_qkv", detail: "a head norm needs \(problem.headDim / 2) work-items a group")
        }
        let options =
            "-DD=\(problem.headDim) -DNEOX=\(problem.neox ? 1 : 0) -DKV_HALF=\(k.elementType == .float16 ? 1 : 0)"
            + " -DPLACEMENTS=\(problem.placements == nil ? 0 : 1) -DHEAD_NORM=\(headNorm ? 1 : 0)"
        let kernel = try backend.kernel(.ropeQkv, options: options)
        var arguments: [any KernelArgument] = [
            Int32(problem.heads), Int32(problem.kvHeads), Int32(problem.position), Int32(problem.slot),
            Int32(problem.kvStride),
            qkv.argument, cosines, sines, q.argument, k.argument, v.argument,
        ]
        if let eps = problem.headNormEps, let qNorm, let kNorm {
            arguments += [qNorm.argument, kNorm.argument, eps]
        }
        if let placed = problem.placements {
            arguments.append(try placements.buffer(placed.flatMap { [$0.slot, $0.position] }, backend: backend))
        }
        return try backend.queue.enqueue(
            kernel, global: [problem.headDim / 2, problem.heads + 2 * problem.kvHeads, problem.tokens],
            local: headNorm ? [problem.headDim / 2, 1, 1] : nil, arguments: arguments)
    }
}
