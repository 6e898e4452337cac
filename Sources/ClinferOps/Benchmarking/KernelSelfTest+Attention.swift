import OpenCLKit

extension KernelSelfTest {
    static let attentionChecks: [KernelSelfTest] = [
        KernelSelfTest("attention_flash gqa causal offset mask", file: "attention_flash.cl") { backend in
            let attention = try OpenCLAttention(backend: backend, queriesPerItem: 2, keysPerTile: 3)
            let problem = AttentionProblem(heads: 4, kvHeads: 2, seqQ: 3, seqK: 7, headDim: 16, causal: true, offset: 4)
            return max(try attentionError(problem, mask: true, attention: attention),
                       try attentionError(AttentionProblem(batch: 2, heads: 2, seqQ: 5, seqK: 5, headDim: 8), kvHalf: true, attention: attention))
        },
        KernelSelfTest("attention decode split-KV", file: "attention_flash.cl") { backend in
            let attention = try OpenCLAttention(backend: backend, keysPerSplit: 4)
            let problem = AttentionProblem(batch: 2, heads: 3, kvHeads: 1, seqQ: 1, seqK: 19, headDim: 8, causal: true, offset: 15)
            return max(try attentionError(problem, attention: attention), try attentionError(problem, mask: true, kvHalf: true, attention: attention))
        },
        KernelSelfTest("attention token-major Q/O over a KV cache (kv stride > seq)", file: "attention_flash.cl") { backend in
            let attention = try OpenCLAttention(backend: backend, keysPerSplit: 4)
            let prefill = AttentionProblem(heads: 3, kvHeads: 1, seqQ: 4, seqK: 6, headDim: 8, causal: true, offset: 2, kvStride: 9, tokenMajor: true)
            let decode = AttentionProblem(heads: 3, kvHeads: 1, seqQ: 1, seqK: 7, headDim: 8, causal: true, offset: 6, kvStride: 9, tokenMajor: true)
            return max(try attentionError(prefill, attention: attention), try attentionError(decode, attention: attention))
        },
        KernelSelfTest("attention key lengths (padded batch, token-major), decode split with key lengths", file: "attention_flash.cl") { backend in
            let attention = try OpenCLAttention(backend: backend, queriesPerItem: 2, keysPerTile: 2, keysPerSplit: 3)
            let padded = AttentionProblem(batch: 3, heads: 2, seqQ: 5, seqK: 5, headDim: 8, tokenMajor: true, keyLengths: [5, 2, 0])
            let decode = AttentionProblem(batch: 2, heads: 2, seqQ: 1, seqK: 9, headDim: 8, keyLengths: [4, 9])
            // 32-key tiles: the eight-wide exponentials and their scalar tail.
            let wide = AttentionProblem(batch: 2, heads: 1, seqQ: 3, seqK: 11, headDim: 8, keyLengths: [11, 9])
            return max(try attentionError(padded, attention: attention), try attentionError(decode, mask: true, attention: attention),
                       try attentionError(wide, mask: true, attention: OpenCLAttention(backend: backend)))
        },
        KernelSelfTest("attention over a cache pool (K/V slots): batched decode split, one sequence's prefill", file: "attention_flash.cl") { backend in
            let attention = try OpenCLAttention(backend: backend, keysPerSplit: 3)
            let decode = AttentionProblem(batch: 3, heads: 2, kvHeads: 1, seqQ: 1, seqK: 7, headDim: 8, kvStride: 8, tokenMajor: true,
                                          keyLengths: [7, 1, 4], kvSequences: 4, kvSlots: [3, 0, 2])
            let prefill = AttentionProblem(heads: 2, kvHeads: 1, seqQ: 3, seqK: 5, headDim: 8, causal: true, offset: 2, kvStride: 8,
                                           tokenMajor: true, kvSequences: 4, kvSlots: [2])
            return max(try attentionError(decode, attention: attention), try attentionError(prefill, attention: attention))
        },
    ]
}

/// Attention on the device and on the CPU from the same random inputs, optionally with a mask
/// that blocks every third key and the whole first query row, and fp16 K/V; returns the
/// relative error of the device output.
public func attentionError(_ problem: AttentionProblem, mask: Bool = false, kvHalf: Bool = false, attention: OpenCLAttention,
                           splits: Int? = nil, seed: UInt64 = 9) throws -> Float {
    let backend = attention.backend
    let qCount = problem.batch * problem.heads * problem.seqQ * problem.headDim
    let kvCount = problem.kvSequences * problem.kvHeads * problem.kvStride * problem.headDim
    let q = HostTensor(SplitMix64.floats(qCount, seed: seed, in: -2...2))
    let k = HostTensor(SplitMix64.floats(kvCount, seed: seed + 1, in: -2...2)).converted(to: kvHalf ? .float16 : .float32)
    let v = HostTensor(SplitMix64.floats(kvCount, seed: seed + 2)).converted(to: kvHalf ? .float16 : .float32)
    let maskTensor = mask ? HostTensor((0..<problem.seqQ * problem.seqK).map { index -> Float in
        index < problem.seqK && problem.seqQ > 1 ? -.infinity : (index % 3 == 2 ? -.infinity : Float(index % 4) * 0.5)
    }) : nil
    let reference = HostTensor(zeros: qCount)
    try CPUAttention().attention(problem, q: q, k: k, v: v, mask: maskTensor, o: reference)
    let o = try DeviceTensor(backend: backend, count: qCount)
    try attention.encode(problem, q: DeviceTensor(backend: backend, copying: q), k: DeviceTensor(backend: backend, copying: k),
                         v: DeviceTensor(backend: backend, copying: v), mask: try maskTensor.map { try DeviceTensor(backend: backend, copying: $0) },
                         o: o, splits: splits)
    let result = try o.download(backend.queue).floats
    return result.allSatisfy(\.isFinite) ? maxRelativeError(result, reference.floats) : .infinity
}
