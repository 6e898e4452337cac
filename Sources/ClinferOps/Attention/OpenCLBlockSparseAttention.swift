import OpenCLKit

/// Block-sparse fused attention on an OpenCL device with `Kernels/attention_block_sparse.cl`: the
/// online softmax of the dense kernel over only the listed key blocks, so the time falls with the
/// mask's density; plus the key gather that applies a ``BlockSelection`` permutation on the
/// device.
public final class OpenCLBlockSparseAttention: BlockSparseAttentionOperation {
    public let backend: OpenCLBackend
    private let offsets = IndexUploads(), indices = IndexUploads(), positions = IndexUploads(), orders = IndexUploads()

    public init(backend: OpenCLBackend) { self.backend = backend }

    public func attention(
        _ problem: BlockSparseAttentionProblem, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, o: DeviceTensor
    ) throws {
        try encode(problem, q: q, k: k, v: v, o: o)
    }

    /// Enqueues the attention without waiting (the mask and positions are uploaded first, and
    /// kept while the same ones come back).
    @discardableResult
    public func encode(
        _ problem: BlockSparseAttentionProblem, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, o: DeviceTensor
    ) throws -> Event {
        try problem.validate(q: q, k: k, v: v, o: o)
        let a = problem.attention
        let options =
            Self.options(a, kvHalf: k.elementType == .float16)
            + " -DBS=\(problem.mask.blockSize) -DCAUSAL=\(a.causal ? 1 : 0) -DKEY_POSITIONS=\(problem.keyPositions == nil ? 0 : 1)"
        let kernel = try backend.kernel(.attentionBlockSparse, options: options)
        var arguments: [any KernelArgument] = [
            Int32(a.seqQ), Int32(a.seqK), Int32(a.kvStride), Int32(a.heads), Int32(a.kvHeads), Int32(a.offset), a.scale,
            Int32(problem.mask.heads),
            q.argument, k.argument, v.argument,
            try offsets.buffer(problem.mask.offsets, backend: backend),
            try indices.buffer(problem.mask.indices, backend: backend),
        ]
        if let keyPositions = problem.keyPositions {
            arguments.append(try positions.buffer(keyPositions, backend: backend))
        }
        return try backend.queue.enqueue(
            kernel, global: [a.seqQ, a.heads, a.batch], arguments: arguments + [o.argument])
    }

    /// Enqueues out[b, h, j] = in[b, h, order[h · seqK + j]] for K or V laid out as `problem`
    /// says (a key permutation from ``BlockSelection``).
    @discardableResult
    public func gatherKeys(
        _ problem: AttentionProblem, order: [Int], from input: DeviceTensor, to output: DeviceTensor
    ) throws -> Event {
        let count = problem.batch * problem.kvHeads * problem.kvStride * problem.headDim
        try input.requireCount(count, op: "gather keys", name: "input")
        try output.requireCount(count, op: "gather keys", name: "output")
        guard input.elementType == output.elementType, order.count == problem.kvHeads * problem.seqK,
            order.allSatisfy({ (0..<problem.seqK).contains($0) })
        else {
            throw OpError.invalidArgument(
                op: "gather keys", detail: "needs one order of kvHeads × seqK keys and matching element types")
        }
        let kernel = try backend.kernel(
            .attentionGatherKeys,
            options: Self.options(problem, kvHalf: input.elementType == .float16))
        return try backend.queue.enqueue(
            kernel, global: [problem.seqK, problem.kvHeads, problem.batch],
            arguments: [
                Int32(problem.seqK), Int32(problem.kvStride), Int32(problem.kvHeads),
                try orders.buffer(order, backend: backend),
                input.argument, output.argument,
            ])
    }

    private static func options(_ problem: AttentionProblem, kvHalf: Bool) -> String {
        "-DD=\(problem.headDim) -DKV_HALF=\(kvHalf ? 1 : 0) -DTOKEN_MAJOR=\(problem.tokenMajor ? 1 : 0)"
    }
}
