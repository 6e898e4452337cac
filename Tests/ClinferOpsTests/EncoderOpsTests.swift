import ClinferOps
import OpenCLKit
import Testing

/// The ops an encoder (BERT) forward pass adds: attention over a padded batch (per-item key
/// lengths), linear-layer biases (alone and fused with GELU) and the QKV split
/// (Kernels/qkv_split.cl), OpenCL vs CPU.
@Suite("Encoder ops: key-length attention, bias, QKV split")
struct EncoderOpsTests {
    static let tolerance: Float = 2e-5

    @Test(
        "attention with key lengths on a padded batch: odd lengths, 0 and full, both layouts, head dims 32 and 64",
        arguments: [1, 7, 33, 129])
    func keyLengths(seq: Int) throws {
        let backend = try TestDevice.opencl()
        let lengths = [seq, max(0, seq - 3), 1, 0, (seq + 1) / 2]
        for attention in [
            try OpenCLAttention(backend: backend),
            try OpenCLAttention(backend: backend, queriesPerItem: 3, keysPerTile: 5),
        ] {
            for (heads, kvHeads, d) in [(12, 12, 32), (4, 2, 64)] {
                for tokenMajor in [false, true] {
                    let problem = AttentionProblem(
                        batch: lengths.count, heads: heads, kvHeads: kvHeads, seqQ: seq, seqK: seq, headDim: d,
                        tokenMajor: tokenMajor, keyLengths: lengths)
                    let error = try attentionError(problem, attention: attention)
                    #expect(
                        error <= Self.tolerance,
                        "seq \(seq) heads \(heads)/\(kvHeads) d \(d) token-major \(tokenMajor): \(error)")
                }
            }
            let causal = AttentionProblem(
                batch: lengths.count, heads: 2, seqQ: seq, seqK: seq, headDim: 8, causal: true, keyLengths: lengths)
            #expect(try attentionError(causal, mask: true, attention: attention) <= Self.tolerance)
        }
    }

    @Test("decode (one query) with key lengths: split-KV and single work-item paths", arguments: [1, 4, 64])
    func keyLengthsDecode(splits: Int) throws {
        let attention = try OpenCLAttention(backend: TestDevice.opencl())
        let problem = AttentionProblem(batch: 3, heads: 3, seqQ: 1, seqK: 300, headDim: 32, keyLengths: [300, 17, 0])
        #expect(try attentionError(problem, attention: attention, splits: splits) <= Self.tolerance)
        #expect(
            try attentionError(problem, mask: true, kvHalf: true, attention: attention, splits: splits)
                <= Self.tolerance)
    }

    @Test("a padded item's valid rows equal attention over that item alone (padding keys hold garbage)")
    func paddingIsInvisible() throws {
        let backend = try TestDevice.opencl()
        let (seq, heads, d, length) = (9, 2, 8, 5)
        var k = SplitMix64.floats(heads * seq * d, seed: 3, in: -2...2), v = SplitMix64.floats(heads * seq * d, seed: 4)
        for h in 0..<heads {
            for j in length..<seq { for x in 0..<d { k[(h * seq + j) * d + x] = 1e4; v[(h * seq + j) * d + x] = 1e4 } }
        }
        let q = SplitMix64.floats(seq * heads * d, seed: 5, in: -2...2)
        let padded = AttentionProblem(
            heads: heads, seqQ: seq, seqK: seq, headDim: d, tokenMajor: true, keyLengths: [length])
        let alone = AttentionProblem(heads: heads, seqQ: length, seqK: length, headDim: d, tokenMajor: true)
        func trim(_ values: [Float]) -> [Float] {
            (0..<heads).flatMap { h in values[(h * seq) * d..<(h * seq + length) * d] }
        }
        let out = try DeviceTensor(backend: backend, count: seq * heads * d),
            single = try DeviceTensor(backend: backend, count: length * heads * d)
        let attention = try OpenCLAttention(backend: backend)
        try attention.encode(
            padded, q: DeviceTensor(backend: backend, copying: HostTensor(q)),
            k: DeviceTensor(backend: backend, copying: HostTensor(k)),
            v: DeviceTensor(backend: backend, copying: HostTensor(v)), mask: nil, o: out)
        try attention.encode(
            alone, q: DeviceTensor(backend: backend, copying: HostTensor(Array(q[0..<length * heads * d]))),
            k: DeviceTensor(backend: backend, copying: HostTensor(trim(k))),
            v: DeviceTensor(backend: backend, copying: HostTensor(trim(v))),
            mask: nil, o: single)
        let first = Array(try out.download(backend.queue).floats[0..<length * heads * d])
        #expect(relativeError(first, try single.download(backend.queue).floats) <= 1e-6)
        let host = HostTensor(zeros: seq * heads * d)
        try CPUAttention().attention(padded, q: HostTensor(q), k: HostTensor(k), v: HostTensor(v), mask: nil, o: host)
        #expect(host.floats.allSatisfy { abs($0) < 100 }, "no padded key reaches any row")
    }

    @Test("bias add and bias + GELU, odd shapes", arguments: [(1, 1), (7, 33), (3, 1000), (129, 17)])
    func bias(shape: (Int, Int)) throws {
        #expect(try biasActivationError(rows: shape.0, width: shape.1, backend: TestDevice.opencl()) <= 1e-5)
    }

    @Test(
        "QKV split with and without bias, odd shapes",
        arguments: [(1, 1, 1, 8), (3, 7, 12, 32), (2, 33, 3, 5), (5, 1, 2, 64)])
    func qkvSplit(shape: (Int, Int, Int, Int)) throws {
        let problem = QKVSplitProblem(batch: shape.0, seq: shape.1, heads: shape.2, headDim: shape.3)
        for bias in [true, false] {
            #expect(try qkvSplitError(problem, bias: bias, backend: TestDevice.opencl()) == 0, "\(shape) bias \(bias)")
        }
    }

    @Test("the CPU split puts value (token t, head h, x) where attention reads it")
    func qkvSplitLayout() throws {
        let problem = QKVSplitProblem(batch: 2, seq: 3, heads: 2, headDim: 2)  // hidden 4, rows of 12
        let qkv = HostTensor((0..<problem.tokens * 12).map(Float.init))
        let q = HostTensor(zeros: 24), k = HostTensor(zeros: 24), v = HostTensor(zeros: 24)
        try CPUQKVSplit().split(
            problem, qkv: qkv, bias: HostTensor([Float](repeating: 0.5, count: 12)), q: q, k: k, v: v)
        // token 4 = batch 1, position 1; head 1, x 0 is column 2 of Q, 4 + 2 of K, 8 + 2 of V.
        #expect(q.floats[4 * 4 + 2] == Float(4 * 12 + 2) + 0.5)
        let kvIndex = ((1 * 2 + 1) * 3 + 1) * 2  // [batch 1, head 1, position 1, x 0]
        #expect(k.floats[kvIndex] == Float(4 * 12 + 6) + 0.5)
        #expect(v.floats[kvIndex] == Float(4 * 12 + 10) + 0.5)
    }

    @Test("bad operands give typed errors on both backends")
    func badInput() throws {
        let backend = try TestDevice.opencl()
        let x = try DeviceTensor(backend: backend, count: 10), b3 = try DeviceTensor(backend: backend, count: 3)
        #expect(throws: OpError.self) { try OpenCLActivation(backend: backend).biasAdd(x, bias: b3) }
        #expect(throws: OpError.self) { try OpenCLActivation(backend: backend).biasGeluErf(x, bias: b3) }
        #expect(throws: OpError.self) { try CPUActivation().biasAdd(HostTensor(zeros: 10), bias: HostTensor(zeros: 3)) }
        let split = QKVSplitProblem(batch: 1, seq: 2, heads: 1, headDim: 2)
        #expect(throws: OpError.self) {
            try OpenCLQKVSplit(backend: backend).split(split, qkv: x, bias: nil, q: b3, k: b3, v: b3)
        }
        #expect(throws: OpError.self) {
            try CPUQKVSplit().split(
                QKVSplitProblem(batch: 0, seq: 2, heads: 1, headDim: 2), qkv: HostTensor(zeros: 0), bias: nil,
                q: HostTensor(zeros: 0), k: HostTensor(zeros: 0), v: HostTensor(zeros: 0))
        }
        let q = try DeviceTensor(backend: backend, count: 2 * 8 * 3)
        for lengths in [[1], [4, 1], [-1, 2]] {
            let problem = AttentionProblem(batch: 2, heads: 1, seqQ: 3, seqK: 3, headDim: 8, keyLengths: lengths)
            #expect(throws: OpError.self) {
                try OpenCLAttention(backend: backend).attention(problem, q: q, k: q, v: q, mask: nil, o: q)
            }
            #expect(throws: OpError.self) {
                let host = HostTensor(zeros: 48)
                try CPUAttention().attention(problem, q: host, k: host, v: host, mask: nil, o: host)
            }
        }
    }
}
