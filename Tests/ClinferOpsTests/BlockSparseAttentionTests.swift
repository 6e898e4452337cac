import ClinferOps
import Foundation
import OpenCLKit
import Testing

/// Block-sparse attention (Kernels/attention_block_sparse.cl): OpenCL vs the CPU reference on odd shapes, its relation to dense
/// attention (a full mask is dense; a shared mask is dense with that mask), PBS block selection
/// and key permutation. Tolerances as for dense attention: 1e-4 relative (fp32 K/V), 1e-3 (fp16).
@Suite("Block-sparse attention")
struct BlockSparseAttentionTests {
    /// Each (head, query block) keeps the sink, its diagonal and a pseudo-random share of the rest.
    static func randomMask(_ a: AttentionProblem, blockSize: Int, perHead: Bool, seed: UInt64) throws -> BlockMask {
        var random = SplitMix64(seed: seed)
        let queryBlocks = (a.seqQ + blockSize - 1) / blockSize
        let lists = (0..<(perHead ? a.heads : 1) * queryBlocks).map { list -> [Int] in
            let visible = BlockMask.visible(
                queryBlock: list % queryBlocks, blockSize: blockSize, seqQ: a.seqQ, seqK: a.seqK, causal: a.causal,
                offset: a.offset)
            return visible.filter { $0 == 0 || $0 == visible.upperBound - 1 || random.next() % 2 == 0 }
        }
        return try BlockMask(
            blockSize: blockSize, queryBlocks: queryBlocks, keyBlocks: (a.seqK + blockSize - 1) / blockSize,
            lists: lists)
    }

    @Test(
        "OpenCL equals the CPU: seq 1/3/17/129, d 64/80, GQA 9/3, causal with offset, per-head and shared masks, permuted keys, fp16",
        arguments: [1, 3, 17, 129])
    func parity(seq: Int) throws {
        let backend = try TestDevice.opencl()
        for (d, offset, blockSize) in [(64, 0, 16), (80, 5, 7)] {
            let a = AttentionProblem(
                heads: 9, kvHeads: 3, seqQ: seq, seqK: offset + seq, headDim: d, causal: true, offset: offset)
            for perHead in [false, true] {
                let problem = BlockSparseAttentionProblem(
                    attention: a,
                    mask: try Self.randomMask(a, blockSize: blockSize, perHead: perHead, seed: UInt64(seq)))
                #expect(
                    try blockSparseAttentionError(problem, backend: backend) < 1e-4,
                    "d \(d) block \(blockSize) per-head \(perHead)")
                #expect(try blockSparseAttentionError(problem, kvHalf: true, backend: backend) < 1e-3)
            }
            // Keys reversed within each KV head: the causal rule follows their original positions.
            let reversed = (0..<a.kvHeads).flatMap { _ in (0..<a.seqK).reversed() }
            let permuted = BlockSparseAttentionProblem(
                attention: a, mask: try Self.randomMask(a, blockSize: blockSize, perHead: true, seed: 3),
                keyPositions: reversed)
            #expect(try blockSparseAttentionError(permuted, backend: backend) < 1e-4)
            #expect(try gatherKeysError(a, order: reversed, backend: backend) == 0)
        }
    }

    @Test("a mask of every visible block is dense attention (OpenCL and CPU), causal and not")
    func fullMaskIsDense() throws {
        let backend = try TestDevice.opencl()
        for causal in [true, false] {
            let a = AttentionProblem(heads: 9, kvHeads: 3, seqQ: 33, seqK: 40, headDim: 64, causal: causal, offset: 7)
            let problem = BlockSparseAttentionProblem(
                attention: a, mask: try .dense(blockSize: 8, seqQ: 33, seqK: 40, causal: causal, offset: 7))
            let (q, k, v) = Self.inputs(a)
            let dense = HostTensor(zeros: q.count), sparse = HostTensor(zeros: q.count)
            try CPUAttention().attention(a, q: q, k: k, v: v, mask: nil, o: dense)
            try CPUBlockSparseAttention().attention(problem, q: q, k: k, v: v, o: sparse)
            #expect(maxRelativeError(sparse.floats, dense.floats) < 1e-6)
            let o = try DeviceTensor(backend: backend, count: q.count)
            try OpenCLBlockSparseAttention(backend: backend).encode(
                problem, q: DeviceTensor(backend: backend, copying: q),
                k: DeviceTensor(backend: backend, copying: k), v: DeviceTensor(backend: backend, copying: v), o: o)
            #expect(maxRelativeError(try o.download(backend.queue).floats, dense.floats) < 1e-4)
        }
    }

    @Test("a shared block mask equals dense attention with that mask as an additive -∞ mask (sliding window + sink)")
    func maskedMatchesDense() throws {
        let a = AttentionProblem(heads: 4, kvHeads: 2, seqQ: 50, seqK: 50, headDim: 64, causal: true)
        let mask = try BlockMask.slidingWindow(blockSize: 8, seqQ: 50, seqK: 50, window: 2, sinks: 1)
        let additive = HostTensor(
            (0..<50 * 50).map { index -> Float in
                let (i, j) = index.quotientAndRemainder(dividingBy: 50)
                return mask.blocks(head: 0, queryBlock: i / 8).contains(j / 8) ? 0 : -.infinity
            })
        let (q, k, v) = Self.inputs(a)
        let dense = HostTensor(zeros: q.count), sparse = HostTensor(zeros: q.count)
        try CPUAttention().attention(a, q: q, k: k, v: v, mask: additive, o: dense)
        try CPUBlockSparseAttention().attention(
            BlockSparseAttentionProblem(attention: a, mask: mask), q: q, k: k, v: v, o: sparse)
        #expect(maxRelativeError(sparse.floats, dense.floats) < 1e-6)
        #expect(mask.blocks(head: 0, queryBlock: 5) == [0, 4, 5])
    }

    @Test("PBS selection keeps the sink and the diagonal; threshold 1 keeps every visible block, 0 only those")
    func selection() throws {
        let a = AttentionProblem(heads: 9, kvHeads: 3, seqQ: 96, seqK: 96, headDim: 64, causal: true)
        let (q, k, _) = Self.inputs(a)
        let plan = try BlockSelection(blockSize: 16, threshold: 0.5).plan(a, queries: q.floats, keys: k.floats)
        #expect(plan.mask.heads == 9 && plan.keyOrder == nil)
        for h in 0..<9 {
            for qb in 0..<6 {
                let blocks = plan.mask.blocks(head: h, queryBlock: qb)
                #expect(
                    blocks.contains(0) && blocks.contains(qb) && blocks.allSatisfy { $0 <= qb },
                    "head \(h) block \(qb): \(blocks)")
            }
        }
        let all = try BlockSelection(blockSize: 16, threshold: 1).plan(a, queries: q.floats, keys: k.floats)
        #expect(all.mask.visitedBlocks == 9 * (1...6).reduce(0, +))
        let minimal = try BlockSelection(blockSize: 16, threshold: 0).plan(a, queries: q.floats, keys: k.floats)
        #expect(minimal.mask.visitedBlocks == 9 * (1 + 2 * 5))
        // A query block whose keys are dominated by one far block picks it.
        var keys = k.floats
        // KV head 0, block 2 ≈ head 0's queries
        for j in 32..<48 { for x in 0..<64 { keys[j * 64 + x] = q.floats[5 * 16 * 64 + x] * 4 } }
        let steered = try BlockSelection(blockSize: 16, threshold: 0.5, keepSink: false).plan(
            a, queries: q.floats, keys: keys)
        #expect(steered.mask.blocks(head: 0, queryBlock: 5).contains(2))
    }

    @Test(
        "permuted keys with every block kept give dense attention (OpenCL and CPU); selection stays correct under permutation"
    )
    func permutation() throws {
        let backend = try TestDevice.opencl()
        let a = AttentionProblem(heads: 9, kvHeads: 3, seqQ: 77, seqK: 77, headDim: 64, causal: true)
        let (q, k, v) = Self.inputs(a)
        let plan = try BlockSelection(blockSize: 8, threshold: 1, permutationSegment: 3).plan(
            a, queries: q.floats, keys: k.floats)
        let order = try #require(plan.keyOrder)
        #expect(order != (0..<a.kvHeads).flatMap { _ in 0..<77 }, "the keys were reordered")
        for h in 0..<a.kvHeads {  // a permutation within each 24-key segment
            let heads = order[h * 77..<(h + 1) * 77]
            #expect(Set(heads) == Set(0..<77))
            #expect(heads.enumerated().allSatisfy { $0.offset / 24 == $0.element / 24 })
        }
        let dense = HostTensor(zeros: q.count)
        try CPUAttention().attention(a, q: q, k: k, v: v, mask: nil, o: dense)
        let cpu = CPUBlockSparseAttention(), sparse = HostTensor(zeros: q.count)
        try cpu.attention(
            plan.problem(a), q: q, k: cpu.gatherKeys(a, order: order, from: k),
            v: cpu.gatherKeys(a, order: order, from: v), o: sparse)
        #expect(maxRelativeError(sparse.floats, dense.floats) < 1e-6)

        let op = OpenCLBlockSparseAttention(backend: backend)
        let deviceK = try DeviceTensor(backend: backend, count: k.count),
            deviceV = try DeviceTensor(backend: backend, count: v.count)
        try op.gatherKeys(a, order: order, from: DeviceTensor(backend: backend, copying: k), to: deviceK)
        try op.gatherKeys(a, order: order, from: DeviceTensor(backend: backend, copying: v), to: deviceV)
        let o = try DeviceTensor(backend: backend, count: q.count)
        try op.encode(plan.problem(a), q: DeviceTensor(backend: backend, copying: q), k: deviceK, v: deviceV, o: o)
        #expect(maxRelativeError(try o.download(backend.queue).floats, dense.floats) < 1e-4)

        // A sparser permuted plan still keeps each query block's whole diagonal segment.
        let sparser = try BlockSelection(blockSize: 8, threshold: 0.3, permutationSegment: 3).plan(
            a, queries: q.floats, keys: k.floats)
        #expect(
            sparser.mask.blocks(head: 4, queryBlock: 7).starts(with: [0])
                && [6, 7, 8].allSatisfy(sparser.mask.blocks(head: 4, queryBlock: 7).contains))
        #expect(sparser.mask.visitedBlocks < plan.mask.visitedBlocks)
    }

    @Test("bad input: mask of the wrong size, block size out of range, key positions of the wrong count → typed errors")
    func badInput() throws {
        let backend = try TestDevice.opencl()
        let a = AttentionProblem(heads: 2, seqQ: 8, seqK: 8, headDim: 8, causal: true)
        let t = try DeviceTensor(backend: backend, count: 2 * 8 * 8), op = OpenCLBlockSparseAttention(backend: backend)
        let wrongSize = try BlockMask.dense(blockSize: 4, seqQ: 12, seqK: 8, causal: true)
        #expect(throws: OpError.self) {
            try op.attention(BlockSparseAttentionProblem(attention: a, mask: wrongSize), q: t, k: t, v: t, o: t)
        }
        #expect(throws: OpError.self) { try BlockMask(blockSize: 4, queryBlocks: 2, keyBlocks: 2, lists: [[0], [2]]) }
        #expect(throws: OpError.self) { try BlockMask(blockSize: 0, queryBlocks: 2, keyBlocks: 2, lists: [[0], [1]]) }
        let huge = try BlockMask.dense(blockSize: 300, seqQ: 8, seqK: 8, causal: true)
        #expect(throws: OpError.self) {
            try op.attention(BlockSparseAttentionProblem(attention: a, mask: huge), q: t, k: t, v: t, o: t)
        }
        let dense = try BlockMask.dense(blockSize: 4, seqQ: 8, seqK: 8, causal: true)
        #expect(throws: OpError.self) {
            try op.attention(
                BlockSparseAttentionProblem(attention: a, mask: dense, keyPositions: [0, 1]), q: t, k: t, v: t, o: t)
        }
        #expect(throws: OpError.self) {
            try BlockSelection(blockSize: 4).plan(
                AttentionProblem(batch: 2, heads: 2, seqQ: 8, seqK: 8, headDim: 8), queries: [], keys: [])
        }
    }

    static func inputs(_ a: AttentionProblem) -> (HostTensor, HostTensor, HostTensor) {
        let kv = a.kvHeads * a.kvStride * a.headDim
        return (
            HostTensor(SplitMix64.floats(a.batch * a.heads * a.seqQ * a.headDim, seed: 21, in: -2...2)),
            HostTensor(SplitMix64.floats(kv, seed: 22, in: -2...2)), HostTensor(SplitMix64.floats(kv, seed: 23))
        )
    }
}
