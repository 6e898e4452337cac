import ArgumentParser
import ClinferOps
import Foundation
import OpenCLKit

/// `clinfer bench attention`: fused attention against the unfused form (QKᵀ with our GEMM,
/// softmax, P·V with our GEMM), and split-KV decode against one work-item per head, same run.
struct BenchAttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Compare fused and unfused attention, and split-KV decode, on this device.",
        discussion: """
            Prefill: causal self-attention, batch 1, --heads query heads over --kv-heads KV heads, head dim 64, \
            for each --seqs length: device-time medians, GFLOPS (causal: half the 4·seq²·d·heads), and the extra \
            device memory each form needs (unfused: one head's [seq, seq] scores at a time). Decode: one query \
            against --decode-kv keys.
            """)

    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: "Comma-separated sequence lengths for prefill.")
    var seqs = "512,1024,2048"

    @Option(help: "Query heads.") var heads = 9
    @Option(help: "KV heads.") var kvHeads = 3
    @Option(help: "KV length for the decode comparison.") var decodeKv = 4096
    @Option(help: "Timed runs per measurement; the median is reported.") var repetitions = 3
    @Option(help: "Queries per work-item of the fused kernel (BQ; default: the tuned or built-in tiles).")
    var queriesPerItem: Int?
    @Option(help: "Keys per tile of the fused kernel (BK; default: the tuned or built-in tiles).") var keysPerTile: Int?
    @Option(help: "Sequence length of the block-sparse comparison (0 skips it).") var sparseSeq = 4096
    @Option(help: "Comma-separated block densities (fractions of the visible causal blocks) for block-sparse.")
    var densities = "1,0.5,0.25,0.1"
    @Option(help: "Block size of block-sparse attention.") var blockSize = 64

    func run() throws {
        let backend = try deviceOptions.backend()
        let attention = try OpenCLAttention(backend: backend, queriesPerItem: queriesPerItem, keysPerTile: keysPerTile)
        let gemm = OpenCLGEMM(backend: backend, onWarning: { progress("warning: \($0)") })
        let softmax = try OpenCLSoftmax(backend: backend)
        let d = 64
        print("device \(backend.device.name); device-time medians of \(repetitions)")
        print(
            [
                pad("seq", 7), pad("fused ms", 10, right: true), pad("GFLOPS", 8, right: true),
                pad("unfused ms", 11, right: true),
                pad("GFLOPS", 8, right: true), pad("fused ×", 8, right: true), pad("fused extra", 12, right: true),
                pad("unfused extra", 14, right: true),
            ].joined(separator: " "))
        for seq in try seqs.split(separator: ",").map({ text -> Int in
            guard let value = Int(text), value >= 1 else { throw ValidationError("'\(text)' is not a length") }
            return value
        }) {
            progress("seq \(seq)…")
            let problem = AttentionProblem(
                heads: heads, kvHeads: kvHeads, seqQ: seq, seqK: seq, headDim: d, causal: true)
            let q = try DeviceTensor(backend: backend, copying: HostTensor(SplitMix64.floats(heads * seq * d, seed: 1)))
            let k = try DeviceTensor(
                backend: backend, copying: HostTensor(SplitMix64.floats(kvHeads * seq * d, seed: 2)))
            let v = try DeviceTensor(
                backend: backend, copying: HostTensor(SplitMix64.floats(kvHeads * seq * d, seed: 3)))
            let o = try DeviceTensor(backend: backend, count: heads * seq * d)
            try attention.encode(problem, q: q, k: k, v: v, mask: nil, o: o).wait()
            let fused = median(
                try (0..<repetitions).map { _ in
                    try attention.encode(problem, q: q, k: k, v: v, mask: nil, o: o).deviceSeconds()
                })
            let flops = 4 * Double(seq) * Double(seq) * Double(d) * Double(heads) / 2
            let scoreBytes = seq * seq * 4
            var unfused: Double?
            if scoreBytes <= backend.device.maxAllocationBytes / 2 {
                let scores = try DeviceTensor(backend: backend, count: seq * seq)
                let mask = try DeviceTensor(
                    backend: backend, copying: HostTensor((0..<seq * seq).map { $0 % seq > $0 / seq ? -.infinity : 0 }))
                let unfusedRun = { () throws -> Double in
                    var total = 0.0
                    for h in 0..<heads {
                        let qh = try DeviceTensor(.float32(q.float32Slice(h * seq * d, seq * d)))
                        let kh = try DeviceTensor(.float32(k.float32Slice(h / (heads / kvHeads) * seq * d, seq * d)))
                        let vh = try DeviceTensor(.float32(v.float32Slice(h / (heads / kvHeads) * seq * d, seq * d)))
                        let oh = try DeviceTensor(.float32(o.float32Slice(h * seq * d, seq * d)))
                        total += try gemm.encode(
                            GEMMProblem(m: seq, n: seq, k: d, transposeB: true, alpha: problem.scale), a: qh, b: kh,
                            c: scores
                        ).deviceSeconds()
                        total += try softmax.encode(SoftmaxProblem(rows: seq, n: seq), x: scores, mask: mask, y: scores)
                            .deviceSeconds()
                        total += try gemm.encode(GEMMProblem(m: seq, n: d, k: seq), a: scores, b: vh, c: oh)
                            .deviceSeconds()
                    }
                    return total
                }
                _ = try unfusedRun()
                unfused = median(try (0..<repetitions).map { _ in try unfusedRun() })
            }
            print(
                [
                    pad("\(seq)", 7), pad(String(format: "%.2f", fused * 1e3), 10, right: true),
                    pad(format(flops / fused / 1e9), 8, right: true),
                    pad(unfused.map { String(format: "%.2f", $0 * 1e3) } ?? "n/a", 11, right: true),
                    pad(unfused.map { format(flops / $0 / 1e9) } ?? "n/a", 8, right: true),
                    pad(unfused.map { format($0 / fused, 2) + "×" } ?? "—", 8, right: true),
                    pad("0 MiB", 12, right: true), pad("\(scoreBytes >> 20) MiB", 14, right: true),
                ].joined(separator: " "))
        }
        progress("decode…")
        let problem = AttentionProblem(heads: heads, kvHeads: kvHeads, seqQ: 1, seqK: decodeKv, headDim: d)
        let q = try DeviceTensor(backend: backend, copying: HostTensor(SplitMix64.floats(heads * d, seed: 4)))
        let k = try DeviceTensor(
            backend: backend, copying: HostTensor(SplitMix64.floats(kvHeads * decodeKv * d, seed: 5)))
        let v = try DeviceTensor(
            backend: backend, copying: HostTensor(SplitMix64.floats(kvHeads * decodeKv * d, seed: 6)))
        let o = try DeviceTensor(backend: backend, count: heads * d)
        var times: [Int: Double] = [:]
        // one split per 256 keys, whatever the device
        let splitCount = min(64, (decodeKv + attention.keysPerSplit - 1) / attention.keysPerSplit)
        for splits in [1, splitCount] {
            try attention.encode(problem, q: q, k: k, v: v, mask: nil, o: o, splits: splits).wait()
            times[splits] = median(
                try (0..<max(5, repetitions)).map { _ in
                    try attention.encode(problem, q: q, k: k, v: v, mask: nil, o: o, splits: splits).deviceSeconds()
                })
        }
        print(
            "decode, \(decodeKv) keys: one work-item per head \(String(format: "%.3f", times[1]! * 1e3)) ms, split-KV (\(splitCount) splits) "
                + "\(String(format: "%.3f", times[splitCount]! * 1e3)) ms: \(format(times[1]! / times[splitCount]!, 2))×; "
                + "on this device decode uses \(attention.splits(for: problem)) split(s)")
        if sparseSeq > 0 { try runBlockSparse(backend: backend, dense: attention) }
    }

    /// Block-sparse attention at fixed block densities (sink + diagonal + pseudo-random visible
    /// blocks) and with PBS selection (threshold 0.9, keys in order and permuted), against the
    /// dense fused kernel on the same causal problem.
    private func runBlockSparse(backend: OpenCLBackend, dense: OpenCLAttention) throws {
        let seq = sparseSeq, d = 64
        progress("block-sparse, seq \(seq)…")
        let problem = AttentionProblem(heads: heads, kvHeads: kvHeads, seqQ: seq, seqK: seq, headDim: d, causal: true)
        let hostQ = SplitMix64.floats(heads * seq * d, seed: 7, in: -2...2),
            hostK = SplitMix64.floats(kvHeads * seq * d, seed: 8, in: -2...2)
        let q = try DeviceTensor(backend: backend, copying: HostTensor(hostQ)),
            k = try DeviceTensor(backend: backend, copying: HostTensor(hostK))
        let v = try DeviceTensor(backend: backend, copying: HostTensor(SplitMix64.floats(kvHeads * seq * d, seed: 9)))
        let o = try DeviceTensor(backend: backend, count: heads * seq * d)
        let sparse = OpenCLBlockSparseAttention(backend: backend)
        let time = { (run: () throws -> Double) throws -> Double in
            _ = try run()
            return median(try (0..<repetitions).map { _ in try run() })
        }
        let denseSeconds = try time { try dense.encode(problem, q: q, k: k, v: v, mask: nil, o: o).deviceSeconds() }
        let full = try BlockMask.dense(blockSize: blockSize, seqQ: seq, seqK: seq, causal: true)
        print(
            "block-sparse, seq \(seq), block \(blockSize), causal, d \(d), \(heads)/\(kvHeads) heads; dense fused \(String(format: "%.1f", denseSeconds * 1e3)) ms"
        )
        print(
            [
                pad("mask", 22), pad("density", 8, right: true), pad("ms", 9, right: true),
                pad("× dense", 8, right: true), pad("select ms", 10, right: true),
            ].joined(separator: " "))
        let row = { (name: String, mask: BlockMask, order: [Int]?, selectSeconds: Double?) throws in
            var keys = k, values = v
            if let order {
                keys = try DeviceTensor(backend: backend, count: k.count)
                values = try DeviceTensor(backend: backend, count: v.count)
                try sparse.gatherKeys(problem, order: order, from: k, to: keys)
                try sparse.gatherKeys(problem, order: order, from: v, to: values)
            }
            let blockProblem = BlockSparseAttentionProblem(attention: problem, mask: mask, keyPositions: order)
            let seconds = try time { try sparse.encode(blockProblem, q: q, k: keys, v: values, o: o).deviceSeconds() }
            let density = Double(mask.visitedBlocks) / Double(full.visitedBlocks * (mask.heads == 1 ? 1 : heads))
            print(
                [
                    pad(name, 22), pad(format(100 * density) + " %", 8, right: true),
                    pad(String(format: "%.1f", seconds * 1e3), 9, right: true),
                    pad(format(denseSeconds / seconds, 2) + "×", 8, right: true),
                    pad(selectSeconds.map { String(format: "%.1f", $0 * 1e3) } ?? "—", 10, right: true),
                ].joined(separator: " "))
        }
        for density in try densities.split(separator: ",").map({ text -> Double in
            guard let value = Double(text), (0...1).contains(value) else {
                throw ValidationError("'\(text)' is not a density in 0...1")
            }
            return value
        }) {
            var random = SplitMix64(seed: 42)
            let mask = try BlockMask(
                blockSize: blockSize, queryBlocks: full.queryBlocks, keyBlocks: full.keyBlocks,
                lists: (0..<full.queryBlocks).map { qb in
                    let visible = Array(full.blocks(head: 0, queryBlock: qb))
                    let keep = max(min(visible.count, 2), Int((density * Double(visible.count)).rounded()))
                    let middle = visible.dropFirst().dropLast().shuffled(using: &random)
                    return Array(([visible.first!, visible.last!] + middle).prefix(keep))
                })
            try row("sink+diagonal+random", mask, nil, nil)
        }
        for segment in [0, 4] {
            let start = ContinuousClock.now
            let plan = try BlockSelection(blockSize: blockSize, threshold: 0.9, permutationSegment: segment).plan(
                problem, queries: hostQ, keys: hostK)
            let elapsed = ContinuousClock.now - start
            try row(
                segment == 0 ? "PBS 0.9" : "PBS 0.9, permuted ×\(segment)", plan.mask, plan.keyOrder,
                elapsed.seconds)
        }
    }
}

extension DeviceTensor {
    /// A view of `count` fp32 elements from `offset` (offset·4 must meet the device alignment).
    func float32Slice(_ offset: Int, _ count: Int) throws -> Buffer<Float> {
        guard case .float32(let buffer) = storage else {
            throw OpError.unsupportedType(op: "slice", detail: "f32 only")
        }
        return try buffer.subBuffer(offset: offset, count: count)
    }
}
