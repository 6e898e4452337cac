import OpenCLKit

/// Finds the fastest fused-attention tiles per head dimension on a device: each candidate is
/// checked against the CPU at a small causal GQA shape, then timed (device-time median) on a
/// causal prefill of `seq` tokens; the winner goes into the tuning table.
public struct AttentionTuner: Sendable {
    public let backend: OpenCLBackend
    /// Tiles tried per head dimension.
    public var candidates: [AttentionTiles]
    /// The timed problem: causal self-attention over `seq` tokens, `heads` over `kvHeads`.
    public var seq: Int, heads: Int, kvHeads: Int
    public var repetitions: Int

    public init(
        backend: OpenCLBackend, candidates: [AttentionTiles] = AttentionTuner.grid, seq: Int = 1024, heads: Int = 9,
        kvHeads: Int = 3,
        repetitions: Int = 3
    ) {
        self.backend = backend
        self.candidates = candidates
        self.seq = seq
        self.heads = heads
        self.kvHeads = kvHeads
        self.repetitions = repetitions
    }

    /// BQ 1, 2, 4 × BK 16, 32, 64, 128.
    public static let grid = [1, 2, 4].flatMap { bq in
        [16, 32, 64, 128].map { AttentionTiles(queriesPerItem: bq, keysPerTile: $0) }
    }

    /// One candidate's outcome: seconds per attention, or why it was rejected.
    public struct Step: Sendable {
        public let headDim: Int
        public let tiles: AttentionTiles
        public let index: Int, total: Int
        public let outcome: Result<Double, any Error>
    }

    /// `base` with the fastest tiles of each of `headDims` recorded.
    public func tune(
        headDims: [Int], base: GEMMTuningTable, progress: (Step) -> Void = { _ in }
    ) throws -> GEMMTuningTable {
        var table = base
        for headDim in headDims {
            let problem = AttentionProblem(
                heads: heads, kvHeads: kvHeads, seqQ: seq, seqK: seq, headDim: headDim, causal: true)
            let q = try DeviceTensor(
                backend: backend, copying: HostTensor(SplitMix64.floats(heads * seq * headDim, seed: 31)))
            let k = try DeviceTensor(
                backend: backend, copying: HostTensor(SplitMix64.floats(kvHeads * seq * headDim, seed: 32)))
            let v = try DeviceTensor(
                backend: backend, copying: HostTensor(SplitMix64.floats(kvHeads * seq * headDim, seed: 33)))
            let o = try DeviceTensor(backend: backend, count: heads * seq * headDim)
            let check = AttentionProblem(
                heads: 4, kvHeads: 2, seqQ: 7, seqK: 19, headDim: headDim, causal: true, offset: 12)
            var best: (tiles: AttentionTiles, seconds: Double)?
            for (index, tiles) in candidates.enumerated() {
                let outcome = Result { () throws -> Double in
                    let attention = try OpenCLAttention(
                        backend: backend, queriesPerItem: tiles.queriesPerItem, keysPerTile: tiles.keysPerTile)
                    let error = try attentionError(check, attention: attention)
                    guard error < 1e-4 else {
                        throw OpError.invalidConfiguration(
                            kernel: "attention_flash", detail: "\(tiles): relative error \(error) against the CPU")
                    }
                    try attention.encode(problem, q: q, k: k, v: v, mask: nil, o: o).wait()
                    return median(
                        try (0..<max(1, repetitions)).map { _ in
                            try attention.encode(problem, q: q, k: k, v: v, mask: nil, o: o).deviceSeconds()
                        })
                }
                if case .success(let seconds) = outcome, seconds < best?.seconds ?? .infinity {
                    best = (tiles, seconds)
                }
                progress(
                    Step(headDim: headDim, tiles: tiles, index: index + 1, total: candidates.count, outcome: outcome))
            }
            if let best { table.setAttentionTiles(best.tiles, headDim: headDim) }
        }
        return table
    }
}
