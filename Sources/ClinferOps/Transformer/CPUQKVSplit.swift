/// The QKV split on the CPU: the reference for `Kernels/qkv_split.cl`.
public struct CPUQKVSplit: QKVSplitOperation {
    public init() {}

    public func split(
        _ problem: QKVSplitProblem, qkv: HostTensor, bias: HostTensor?, q: HostTensor, k: HostTensor, v: HostTensor
    ) throws {
        try problem.validate(qkv: qkv, bias: bias, q: q, k: k, v: v)
        let input = qkv.floats, offsets = bias?.floats ?? [Float](repeating: 0, count: 3 * problem.hidden)
        let hidden = problem.hidden, d = problem.headDim
        var queries = [Float](repeating: 0, count: problem.tokens * hidden), keys = queries, values = queries
        for t in 0..<problem.tokens {
            let (b, s) = t.quotientAndRemainder(dividingBy: problem.seq)
            let row = t * 3 * hidden
            for j in 0..<hidden {
                let (h, x) = j.quotientAndRemainder(dividingBy: d)
                let kv = ((b * problem.heads + h) * problem.seq + s) * d + x
                queries[t * hidden + j] = input[row + j] + offsets[j]
                keys[kv] = input[row + hidden + j] + offsets[hidden + j]
                values[kv] = input[row + 2 * hidden + j] + offsets[2 * hidden + j]
            }
        }
        q.storage = .float32(queries)
        k.storage = .float32(keys)
        v.storage = .float32(values)
    }
}
