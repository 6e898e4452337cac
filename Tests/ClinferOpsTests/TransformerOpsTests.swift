import ClinferOps
import Foundation
import OpenCLKit
import Testing

/// Parity of the transformer-block ops (norms, RoPE with the KV-cache append, activations, and
/// attention in the layouts a model uses) between the OpenCL kernels and the CPU references.
@Suite("Transformer ops: OpenCL vs CPU")
struct TransformerOpsTests {
    @Test("RMS and layer norm, with and without the fused residual, odd widths", arguments: [1, 7, 33, 576, 1000])
    func norms(width: Int) throws {
        let backend = try TestDevice.opencl()
        for group in [1, 16] {
            let norm = try OpenCLNorm(backend: backend, workGroup: group)
            for kind in [NormProblem.Kind.rms, .layer] {
                for residual in [false, true] {
                    let error = try normError(
                        NormProblem(kind, rows: 5, width: width, eps: 1e-5), residual: residual, norm: norm)
                    #expect(error < 1e-5, "\(kind) width \(width) wg \(group) residual \(residual): \(error)")
                }
            }
        }
    }

    @Test("RoPE + QKV split + cache append, both pair layouts, GQA, odd token counts", arguments: [1, 7, 33])
    func rope(tokens: Int) throws {
        let backend = try TestDevice.opencl()
        for neox in [false, true] {
            for (heads, kvHeads, d) in [(9, 3, 64), (2, 2, 80), (4, 1, 8)] {
                let problem = RoPEProblem(
                    tokens: tokens, heads: heads, kvHeads: kvHeads, headDim: d, position: 5, kvStride: 5 + tokens + 3,
                    neox: neox)
                let error = try ropeError(problem, base: 100_000, backend: backend)
                #expect(error < 1e-5, "tokens \(tokens) heads \(heads)/\(kvHeads) d \(d) neox \(neox): \(error)")
            }
        }
        let half = try ropeError(
            RoPEProblem(tokens: tokens, heads: 2, kvHeads: 1, headDim: 16, position: 0, kvStride: tokens),
            cacheHalf: true, backend: backend)
        #expect(half < 1e-3)
    }

    @Test("RoPE with per-head Q/K RMSNorm (Gemma 3), head dims 8, 64, 256, odd token counts", arguments: [1, 7, 33])
    func ropeHeadNorm(tokens: Int) throws {
        let backend = try TestDevice.opencl()
        for (heads, kvHeads, d) in [(4, 1, 256), (9, 3, 64), (3, 3, 8)] {
            let problem = RoPEProblem(
                tokens: tokens, heads: heads, kvHeads: kvHeads, headDim: d, position: 3, kvStride: 3 + tokens,
                neox: true, headNormEps: 1e-6)
            let error = try ropeError(problem, base: 1_000_000, backend: backend)
            #expect(error < 1e-5, "tokens \(tokens) heads \(heads)/\(kvHeads) d \(d): \(error)")
        }
        // A head norm needs both weights and an epsilon.
        let table = try RoPETable(headDim: 8, positions: 4, base: 10_000)
        let problem = RoPEProblem(
            tokens: 1, heads: 1, kvHeads: 1, headDim: 8, position: 0, kvStride: 4, headNormEps: 1e-6)
        #expect(throws: OpError.self) {
            try CPURoPE(table: table).apply(
                problem, qkv: HostTensor(zeros: 24), q: HostTensor(zeros: 8), k: HostTensor(zeros: 32),
                v: HostTensor(zeros: 32))
        }
    }

    @Test(
        "RoPE into a cache pool: a prompt into one sequence, a decode step placing one token per sequence",
        arguments: [1, 7, 33])
    func ropeCachePool(tokens: Int) throws {
        let backend = try TestDevice.opencl()
        let prompt = RoPEProblem(
            tokens: tokens, heads: 9, kvHeads: 3, headDim: 64, position: 3, kvStride: tokens + 5, slots: 4, slot: 2)
        #expect(try ropeError(prompt, backend: backend) < 1e-5)
        // Sequences in reverse slot order, each at its own position; slot 0 idle.
        let placements = (0..<tokens).map { CachePlacement(slot: tokens - $0, position: ($0 * 5) % (tokens + 5)) }
        let step = RoPEProblem(
            tokens: tokens, heads: 9, kvHeads: 3, headDim: 64, position: 0, kvStride: tokens + 5, slots: tokens + 1,
            placements: placements)
        #expect(try ropeError(step, cacheHalf: true, backend: backend) < 1e-3)
    }

    @Test(
        "attention over a cache pool: batched decode over K/V slots with their own lengths, a prompt in one slot",
        arguments: [1, 7, 33])
    func attentionCachePool(sequences: Int) throws {
        let attention = try OpenCLAttention(backend: TestDevice.opencl(), keysPerSplit: 16)
        let lengths = (0..<sequences).map { 1 + ($0 * 37) % 70 }
        let decode = AttentionProblem(
            batch: sequences, heads: 9, kvHeads: 3, seqQ: 1, seqK: lengths.max()!, headDim: 64, kvStride: 80,
            tokenMajor: true, keyLengths: lengths, kvSequences: sequences + 2,
            kvSlots: (0..<sequences).map { (sequences + 1 - $0) })
        #expect(try attentionError(decode, attention: attention) < 1e-4)
        #expect(try attentionError(decode, kvHalf: true, attention: attention) < 1e-3)
        let prompt = AttentionProblem(
            heads: 9, kvHeads: 3, seqQ: sequences, seqK: 20 + sequences, headDim: 64, causal: true, offset: 20,
            kvStride: 80, tokenMajor: true, kvSequences: 3, kvSlots: [1])
        #expect(try attentionError(prompt, attention: attention) < 1e-4)
    }

    @Test("the RoPE table is cos/sin of pos·base^(−2i/d)")
    func ropeTable() throws {
        let table = try RoPETable(headDim: 4, positions: 3, base: 100)
        #expect(table.cos[0] == 1 && table.sin[0] == 0)
        #expect(abs(table.cos[2 * 2 + 1] - Float(cos(2.0 / 10))) < 1e-7)  // position 2, pair 1: 2·100^(−1/2)
    }

    @Test("SwiGLU, GeGLU, exact GELU and add, odd sizes", arguments: [(1, 1), (7, 33), (3, 1000)])
    func activations(shape: (Int, Int)) throws {
        let error = try activationError(tokens: shape.0, width: shape.1, backend: TestDevice.opencl())
        #expect(error < 1e-5)
    }

    @Test("attention with token-major Q/O over a KV cache larger than the keys used", arguments: [1, 7, 33])
    func attentionOverCache(queries: Int) throws {
        let attention = try OpenCLAttention(backend: TestDevice.opencl(), keysPerSplit: 16)
        for offset in [0, 40] {
            let problem = AttentionProblem(
                heads: 9, kvHeads: 3, seqQ: queries, seqK: offset + queries, headDim: 64, causal: true,
                offset: offset, kvStride: offset + queries + 11, tokenMajor: true)
            let error = try attentionError(problem, attention: attention)
            #expect(error < 1e-4, "queries \(queries) offset \(offset): \(error)")
        }
    }

    @Test("bad operands give typed errors")
    func badInput() throws {
        let backend = try TestDevice.opencl()
        let norm = try OpenCLNorm(backend: backend)
        let x = try DeviceTensor(backend: backend, count: 10), w = try DeviceTensor(backend: backend, count: 4)
        #expect(throws: OpError.self) {
            try norm.normalize(
                NormProblem(.rms, rows: 2, width: 5, eps: 1e-5), x: x, residual: nil, weight: w, bias: nil, out: x)
        }
        #expect(throws: OpError.self) {
            try norm.normalize(
                NormProblem(.layer, rows: 2, width: 5, eps: 1e-5), x: x, residual: nil, weight: x, bias: nil, out: x)
        }
        #expect(throws: OpError.self) { try RoPETable(headDim: 7, positions: 4, base: 10000) }
        let table = try RoPETable(headDim: 8, positions: 4, base: 10000)
        let rope = try OpenCLRoPE(backend: backend, table: table)
        let small = try DeviceTensor(backend: backend, count: 8)
        #expect(throws: OpError.self) {
            try rope.apply(
                RoPEProblem(tokens: 1, heads: 1, kvHeads: 1, headDim: 8, position: 4, kvStride: 4), qkv: small,
                q: small, k: small, v: small)
        }
        let pool = try DeviceTensor(backend: backend, count: 2 * 8 * 4)
        #expect(throws: OpError.self) {  // a placement outside the pool
            try rope.apply(
                RoPEProblem(
                    tokens: 1, heads: 1, kvHeads: 1, headDim: 8, position: 0, kvStride: 4, slots: 2,
                    placements: [CachePlacement(slot: 2, position: 0)]), qkv: DeviceTensor(backend: backend, count: 24),
                q: small, k: pool, v: pool)
        }
        #expect(throws: OpError.self) {  // a K/V slot outside the pool
            try OpenCLAttention(backend: backend).attention(
                AttentionProblem(heads: 1, seqQ: 1, seqK: 2, headDim: 8, kvStride: 4, kvSequences: 2, kvSlots: [5]),
                q: small, k: pool, v: pool, mask: nil, o: small)
        }
        #expect(throws: OpError.self) {
            try OpenCLActivation(backend: backend).swiglu(tokens: 1, width: 3, gateUp: small, out: w)
        }
        #expect(throws: OpError.self) {
            try OpenCLAttention(backend: backend).attention(
                AttentionProblem(heads: 1, seqQ: 1, seqK: 2, headDim: 8, kvStride: 1),
                q: small, k: small, v: small, mask: nil, o: small)
        }
    }
}
