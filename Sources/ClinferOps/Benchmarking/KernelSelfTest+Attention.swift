import OpenCLKit

extension KernelSelfTest {
    static let attentionChecks: [KernelSelfTest] = [
        KernelSelfTest("attention_flash gqa causal offset mask", file: "attention_flash.cl") { backend in
            let attention = try OpenCLAttention(backend: backend, queriesPerItem: 2, keysPerTile: 3)
            let problem = AttentionProblem(heads: 4, kvHeads: 2, seqQ: 3, seqK: 7, headDim: 16, causal: true, offset: 4)
            return max(
                try attentionError(problem, mask: true, attention: attention),
                try attentionError(
                    AttentionProblem(batch: 2, heads: 2, seqQ: 5, seqK: 5, headDim: 8), kvHalf: true,
                    attention: attention))
        },
        KernelSelfTest("attention decode grouped (GQA 3/1), split and unsplit", file: "attention_decode.cl") {
            backend in
            let attention = try OpenCLAttention(backend: backend, keysPerSplit: 4)
            let problem = AttentionProblem(
                batch: 2, heads: 3, kvHeads: 1, seqQ: 1, seqK: 19, headDim: 8, causal: true, offset: 15)
            return max(
                try attentionError(problem, attention: attention),
                try attentionError(problem, mask: true, kvHalf: true, attention: attention),
                try attentionError(problem, mask: true, attention: attention, splits: 1),
                try attentionError(
                    AttentionProblem(heads: 4, kvHeads: 2, seqQ: 1, seqK: 37, headDim: 16), attention: attention,
                    splits: 3))
        },
        KernelSelfTest("attention token-major Q/O over a KV cache (kv stride > seq)", file: "attention_flash.cl") {
            backend in
            let attention = try OpenCLAttention(backend: backend, keysPerSplit: 4)
            let prefill = AttentionProblem(
                heads: 3, kvHeads: 1, seqQ: 4, seqK: 6, headDim: 8, causal: true, offset: 2, kvStride: 9,
                tokenMajor: true)
            let decode = AttentionProblem(
                heads: 3, kvHeads: 1, seqQ: 1, seqK: 7, headDim: 8, causal: true, offset: 6, kvStride: 9,
                tokenMajor: true)
            return max(
                try attentionError(prefill, attention: attention), try attentionError(decode, attention: attention))
        },
        KernelSelfTest(
            "attention key lengths (padded batch, token-major), decode split with key lengths",
            file: "attention_decode.cl"
        ) { backend in
            let attention = try OpenCLAttention(backend: backend, queriesPerItem: 2, keysPerTile: 2, keysPerSplit: 3)
            let padded = AttentionProblem(
                batch: 3, heads: 2, seqQ: 5, seqK: 5, headDim: 8, tokenMajor: true, keyLengths: [5, 2, 0])
            let decode = AttentionProblem(batch: 2, heads: 2, seqQ: 1, seqK: 9, headDim: 8, keyLengths: [4, 9])
            // 32-key tiles: the eight-wide exponentials and their scalar tail.
            let wide = AttentionProblem(batch: 2, heads: 1, seqQ: 3, seqK: 11, headDim: 8, keyLengths: [11, 9])
            return max(
                try attentionError(padded, attention: attention),
                // Explicit splits: a 1–2 compute-unit device would not split these keys itself.
                try attentionError(decode, mask: true, attention: attention, splits: 3),
                try attentionError(wide, mask: true, attention: OpenCLAttention(backend: backend)))
        },
        KernelSelfTest(
            "attention over a cache pool (K/V slots): batched decode split, one sequence's prefill",
            file: "attention_decode.cl"
        ) { backend in
            let attention = try OpenCLAttention(backend: backend, keysPerSplit: 3)
            let decode = AttentionProblem(
                batch: 3, heads: 2, kvHeads: 1, seqQ: 1, seqK: 7, headDim: 8, kvStride: 8, tokenMajor: true,
                keyLengths: [7, 1, 4], kvSequences: 4, kvSlots: [3, 0, 2])
            let prefill = AttentionProblem(
                heads: 2, kvHeads: 1, seqQ: 3, seqK: 5, headDim: 8, causal: true, offset: 2, kvStride: 8,
                tokenMajor: true, kvSequences: 4, kvSlots: [2])
            return max(
                try attentionError(decode, attention: attention, splits: 3),
                try attentionError(prefill, attention: attention))
        },
        KernelSelfTest(
            "attention sliding window: prefill blocks, decode split and unsplit", file: "attention_decode.cl"
        ) {
            backend in
            let attention = try OpenCLAttention(backend: backend, queriesPerItem: 2, keysPerTile: 3, keysPerSplit: 3)
            let prefill = AttentionProblem(
                heads: 2, kvHeads: 1, seqQ: 9, seqK: 13, headDim: 8, causal: true, offset: 4, kvStride: 14,
                tokenMajor: true, window: 5)
            let decode = AttentionProblem(
                batch: 3, heads: 2, kvHeads: 1, seqQ: 1, seqK: 13, headDim: 8, kvStride: 14, tokenMajor: true,
                keyLengths: [13, 2, 7], kvSequences: 3, kvSlots: [1, 2, 0], window: 4)
            let single = AttentionProblem(
                heads: 3, kvHeads: 1, seqQ: 1, seqK: 11, headDim: 8, causal: true, offset: 10, window: 6)
            return max(
                try attentionError(prefill, attention: attention),
                try attentionError(decode, attention: attention, splits: 2),
                try attentionError(single, attention: attention, splits: 1),
                try attentionError(single, kvHalf: true, attention: attention, splits: 3))
        },
        KernelSelfTest(
            "attention_block_sparse: per-head lists, causal offset, permuted keys, fp16; gather",
            file: "attention_block_sparse.cl"
        ) { backend in
            let attention = AttentionProblem(
                heads: 2, kvHeads: 1, seqQ: 5, seqK: 7, headDim: 8, causal: true, offset: 2)
            let mask = try BlockMask(
                blockSize: 2, queryBlocks: 3, keyBlocks: 4, lists: [[0, 1], [1, 2], [0, 3], [2], [], [0, 1, 2, 3]])
            let permuted = BlockSparseAttentionProblem(
                attention: attention, mask: mask, keyPositions: [3, 0, 6, 1, 5, 2, 4])
            let shared = try BlockMask.slidingWindow(blockSize: 3, seqQ: 5, seqK: 7, window: 1, offset: 2)
            return max(
                try blockSparseAttentionError(permuted, backend: backend),
                try blockSparseAttentionError(
                    BlockSparseAttentionProblem(attention: attention, mask: shared), kvHalf: true, backend: backend),
                try gatherKeysError(attention, order: [3, 0, 6, 1, 5, 2, 4], backend: backend))
        },
    ]
}

/// Attention on the device and on the CPU from the same random inputs, optionally with a mask
/// that blocks every third key and the whole first query row, and fp16 K/V; returns the
/// relative error of the device output.
package func attentionError(
    _ problem: AttentionProblem, mask: Bool = false, kvHalf: Bool = false, attention: OpenCLAttention,
    splits: Int? = nil, seed: UInt64 = 9
) throws -> Float {
    let backend = attention.backend
    let qCount = problem.batch * problem.heads * problem.seqQ * problem.headDim
    let kvCount = problem.kvSequences * problem.kvHeads * problem.kvStride * problem.headDim
    let q = HostTensor(SplitMix64.floats(qCount, seed: seed, in: -2...2))
    let k = HostTensor(SplitMix64.floats(kvCount, seed: seed + 1, in: -2...2)).converted(
        to: kvHalf ? .float16 : .float32)
    let v = HostTensor(SplitMix64.floats(kvCount, seed: seed + 2)).converted(to: kvHalf ? .float16 : .float32)
    let maskTensor =
        mask
        ? HostTensor(
            (0..<problem.seqQ * problem.seqK).map { index -> Float in
                index < problem.seqK && problem.seqQ > 1
                    ? -.infinity : (index % 3 == 2 ? -.infinity : Float(index % 4) * 0.5)
            }) : nil
    let reference = HostTensor(zeros: qCount)
    try CPUAttention().attention(problem, q: q, k: k, v: v, mask: maskTensor, o: reference)
    let o = try DeviceTensor(backend: backend, count: qCount)
    try attention.encode(
        problem, q: DeviceTensor(backend: backend, copying: q), k: DeviceTensor(backend: backend, copying: k),
        v: DeviceTensor(backend: backend, copying: v),
        mask: try maskTensor.map { try DeviceTensor(backend: backend, copying: $0) },
        o: o, splits: splits)
    let result = try o.download(backend.queue).floats
    return result.allSatisfy(\.isFinite) ? maxRelativeError(result, reference.floats) : .infinity
}

/// Block-sparse attention on the device and on the CPU from the same random inputs (optionally
/// fp16 K/V); the relative error of the device output.
package func blockSparseAttentionError(
    _ problem: BlockSparseAttentionProblem, kvHalf: Bool = false, backend: OpenCLBackend, seed: UInt64 = 11
) throws -> Float {
    let a = problem.attention
    let qCount = a.batch * a.heads * a.seqQ * a.headDim, kvCount = a.kvSequences * a.kvHeads * a.kvStride * a.headDim
    let q = HostTensor(SplitMix64.floats(qCount, seed: seed, in: -2...2))
    let k = HostTensor(SplitMix64.floats(kvCount, seed: seed + 1, in: -2...2)).converted(
        to: kvHalf ? .float16 : .float32)
    let v = HostTensor(SplitMix64.floats(kvCount, seed: seed + 2)).converted(to: kvHalf ? .float16 : .float32)
    let reference = HostTensor(zeros: qCount)
    try CPUBlockSparseAttention().attention(problem, q: q, k: k, v: v, o: reference)
    let o = try DeviceTensor(backend: backend, count: qCount)
    try OpenCLBlockSparseAttention(backend: backend).encode(
        problem, q: DeviceTensor(backend: backend, copying: q),
        k: DeviceTensor(backend: backend, copying: k), v: DeviceTensor(backend: backend, copying: v), o: o)
    let result = try o.download(backend.queue).floats
    return result.allSatisfy(\.isFinite) ? maxRelativeError(result, reference.floats) : .infinity
}

/// The key gather on the device and the CPU; the largest relative difference (0 when exact).
package func gatherKeysError(
    _ problem: AttentionProblem, order: [Int], backend: OpenCLBackend, seed: UInt64 = 12
) throws -> Float {
    let count = problem.batch * problem.kvHeads * problem.kvStride * problem.headDim
    let keys = HostTensor(SplitMix64.floats(count, seed: seed))
    let gathered = try DeviceTensor(backend: backend, copying: keys)
    try OpenCLBlockSparseAttention(backend: backend).gatherKeys(
        problem, order: order, from: DeviceTensor(backend: backend, copying: keys), to: gathered)
    return maxRelativeError(
        try gathered.download(backend.queue).floats,
        CPUBlockSparseAttention().gatherKeys(problem, order: order, from: keys).floats)
}
