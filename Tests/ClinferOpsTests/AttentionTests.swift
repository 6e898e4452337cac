import ClinferOps
import OpenCLKit
import Testing

/// Kernels/attention_flash.cl and attention_decode.cl (grouped decode, split-KV merge) against
/// the double-precision CPU reference.
@Suite("Fused attention: flash kernel and split-KV decode vs CPU")
struct AttentionTests {
    /// fp32 online softmax and accumulation against a double-precision reference.
    static let tolerance: Float = 2e-5

    @Test("odd sequence lengths, head dims 64 and 80, GQA 9/3 as in SmolLM2", arguments: [64, 80])
    func parity(headDim: Int) throws {
        let attention = try OpenCLAttention(backend: TestDevice.opencl())
        for seq in [1, 3, 17, 129] {
            for causal in [false, true] {
                let problem = AttentionProblem(
                    heads: 9, kvHeads: 3, seqQ: seq, seqK: seq, headDim: headDim, causal: causal)
                let error = try attentionError(problem, attention: attention)
                #expect(error <= Self.tolerance, "seq \(seq) d \(headDim) causal \(causal): \(error)")
            }
        }
    }

    @Test("causal with a query offset (queries after a KV cache), masks blocking whole rows, fp16 K/V")
    func offsetsMasksHalf() throws {
        let backend = try TestDevice.opencl()
        for attention in [
            try OpenCLAttention(backend: backend),
            try OpenCLAttention(backend: backend, queriesPerItem: 3, keysPerTile: 5),
        ] {
            for (seqQ, seqK, offset) in [(1, 9, 8), (5, 21, 16), (17, 40, 23), (4, 4, 0)] {
                for (mask, half) in [(false, false), (true, false), (false, true), (true, true)] {
                    let problem = AttentionProblem(
                        batch: 2, heads: 4, kvHeads: 2, seqQ: seqQ, seqK: seqK, headDim: 32, causal: true,
                        offset: offset)
                    let error = try attentionError(problem, mask: mask, kvHalf: half, attention: attention, splits: 1)
                    #expect(error <= Self.tolerance, "\(seqQ)/\(seqK)+\(offset) mask \(mask) f16 \(half): \(error)")
                }
            }
        }
    }

    @Test("grouped decode, split over 1, 2, 7, 64 key ranges", arguments: [1, 2, 7, 64])
    func splitDecode(splits: Int) throws {
        let attention = try OpenCLAttention(backend: TestDevice.opencl())
        for (seqK, causal, offset) in [(1, false, 0), (100, false, 0), (300, true, 250), (513, true, 512)] {
            let problem = AttentionProblem(
                heads: 9, kvHeads: 3, seqQ: 1, seqK: seqK, headDim: 64, causal: causal, offset: offset)
            for (mask, half) in [(false, false), (true, true)] {
                let error = try attentionError(problem, mask: mask, kvHalf: half, attention: attention, splits: splits)
                #expect(error <= Self.tolerance, "splits \(splits) seqK \(seqK): \(error)")
            }
        }
        // One split per 256 keys at most, and no more than it takes to give the device its work-items.
        for heads in [1, 9, 64] {
            let splits = attention.splits(for: AttentionProblem(heads: heads, seqQ: 1, seqK: 4096, headDim: 64))
            #expect(
                (1...16).contains(splits)
                    && (splits == 16 || splits == max(1, (attention.workItemTarget + heads - 1) / heads)),
                "\(heads) heads: \(splits)")
        }
        #expect(attention.splits(for: AttentionProblem(heads: 9, seqQ: 2, seqK: 4096, headDim: 64)) == 1)
    }

    @Test("sliding window: equal to an explicit mask on the CPU; OpenCL prefill and decode on odd shapes")
    func slidingWindow() throws {
        // The CPU reference's window against the same attention with the window as an additive mask.
        for (seqQ, seqK, offset, window) in [(7, 12, 5, 3), (33, 33, 0, 7), (1, 40, 39, 1)] {
            let windowed = AttentionProblem(
                heads: 2, seqQ: seqQ, seqK: seqK, headDim: 8, causal: true, offset: offset, window: window)
            let mask = HostTensor(
                (0..<seqQ * seqK).map { index in
                    let (i, j) = index.quotientAndRemainder(dividingBy: seqK)
                    return j > offset + i - window ? 0 : -Float.infinity
                })
            let q = HostTensor(randomFloats(2 * seqQ * 8, seed: 1)), k = HostTensor(randomFloats(2 * seqK * 8, seed: 2))
            let v = HostTensor(randomFloats(2 * seqK * 8, seed: 3))
            let (a, b) = (HostTensor(zeros: 2 * seqQ * 8), HostTensor(zeros: 2 * seqQ * 8))
            try CPUAttention().attention(windowed, q: q, k: k, v: v, mask: nil, o: a)
            var masked = windowed
            masked.window = nil
            try CPUAttention().attention(masked, q: q, k: k, v: v, mask: mask, o: b)
            #expect(a.floats == b.floats, "seqQ \(seqQ) seqK \(seqK) window \(window)")
        }
        let backend = try TestDevice.opencl()
        let attention = try OpenCLAttention(backend: backend)
        for window in [1, 7, 33, 512] {
            for (seqQ, offset) in [(1, 999), (7, 0), (33, 400), (100, 900)] {
                let problem = AttentionProblem(
                    heads: 4, kvHeads: 1, seqQ: seqQ, seqK: offset + seqQ, headDim: 64, causal: true, offset: offset,
                    kvStride: 1000, tokenMajor: true, window: window)
                for splits in seqQ == 1 ? [1, 7] : [1] {
                    let error = try attentionError(problem, kvHalf: window == 33, attention: attention, splits: splits)
                    #expect(error <= Self.tolerance, "window \(window) seqQ \(seqQ) offset \(offset): \(error)")
                }
            }
        }
        #expect(throws: OpError.self) {
            try CPUAttention().attention(
                AttentionProblem(heads: 1, seqQ: 2, seqK: 2, headDim: 8, window: 1), q: HostTensor(zeros: 16),
                k: HostTensor(zeros: 16), v: HostTensor(zeros: 16), mask: nil, o: HostTensor(zeros: 16))
        }
    }

    @Test("a query that sees no key gets zeros")
    func blockedQuery() throws {
        let backend = try TestDevice.opencl()
        let problem = AttentionProblem(heads: 1, seqQ: 2, seqK: 3, headDim: 8)
        let mask = try DeviceTensor(
            backend: backend, copying: HostTensor([-.infinity, -.infinity, -.infinity, 0, 0, 0]))
        let o = try DeviceTensor(backend: backend, count: 16)
        try OpenCLAttention(backend: backend).attention(
            problem, q: DeviceTensor(backend: backend, copying: HostTensor(SplitMix64.floats(16, seed: 1))),
            k: DeviceTensor(backend: backend, copying: HostTensor(SplitMix64.floats(24, seed: 2))),
            v: DeviceTensor(backend: backend, copying: HostTensor(SplitMix64.floats(24, seed: 3))), mask: mask, o: o)
        let result = try o.download(backend.queue).floats
        #expect(Array(result[0..<8]) == [Float](repeating: 0, count: 8))
        #expect(result[8..<16].allSatisfy { $0.isFinite && $0 != 0 })
    }

    @Test("bad input throws typed errors")
    func badInput() throws {
        let backend = try TestDevice.opencl()
        let attention = try OpenCLAttention(backend: backend)
        func run(_ problem: AttentionProblem, qCount: Int? = nil, maskCount: Int? = nil) throws {
            let q = problem.batch * problem.heads * problem.seqQ * problem.headDim
            let kv = problem.batch * max(problem.kvHeads, 1) * problem.seqK * problem.headDim
            try attention.attention(
                problem, q: DeviceTensor(backend: backend, count: qCount ?? q),
                k: DeviceTensor(backend: backend, count: kv),
                v: DeviceTensor(backend: backend, count: kv),
                mask: try maskCount.map { try DeviceTensor(backend: backend, count: $0) },
                o: DeviceTensor(backend: backend, count: q))
        }
        #expect(throws: OpError.self) { try run(AttentionProblem(heads: 4, seqQ: 2, seqK: 2, headDim: 12)) }
        #expect(throws: OpError.self) { try run(AttentionProblem(heads: 4, seqQ: 2, seqK: 2, headDim: 264)) }
        #expect(throws: OpError.self) { try run(AttentionProblem(heads: 9, kvHeads: 2, seqQ: 2, seqK: 2, headDim: 8)) }
        #expect(throws: OpError.self) {
            try run(AttentionProblem(heads: 2, seqQ: 2, seqK: 3, headDim: 8), maskCount: 5)
        }
        #expect(throws: OpError.self) { try run(AttentionProblem(heads: 2, seqQ: 2, seqK: 3, headDim: 8), qCount: 31) }
        #expect(throws: OpError.self) { try OpenCLAttention(backend: backend, queriesPerItem: 0) }
    }
}
