import OpenCLKit

/// Fused (flash-style) attention on an OpenCL device with `Kernels/attention_flash.cl`: K/V
/// tiles streamed with an online softmax, never storing the score matrix. A single query per
/// head (decode, `Kernels/attention_decode.cl`) runs a work-item per KV head that serves every
/// query head of its group (the cache is read once, not once per query head), and splits the
/// keys over several work-items, merging their partial (max, sum, output), when that many
/// work-items would leave the device idle.
public final class OpenCLAttention: AttentionOperation {
    public let backend: OpenCLBackend
    /// Tiles for every head dimension when given at init; else each head dimension's from `tuning`.
    public let fixedTiles: AttentionTiles?
    /// The device's tuning table (saved by `clinfer tune attention`, else built-in defaults).
    public let tuning: GEMMTuningTable
    /// Keys per split in decode; 0 disables the split-KV path.
    public let keysPerSplit: Int
    private let partialMaxima = ScratchBuffer(), partialSums = ScratchBuffer(), partialOutputs = ScratchBuffer()
    private let keyLengths = IndexUploads(), kvSlots = IndexUploads()

    /// `queriesPerItem`/`keysPerTile` fix the tiles (the other from the built-in table); without
    /// them each head dimension gets its tiles from `tuning`, or the device's tuning file.
    public init(
        backend: OpenCLBackend, queriesPerItem: Int? = nil, keysPerTile: Int? = nil, keysPerSplit: Int = 256,
        tuning: GEMMTuningTable? = nil, store: GEMMTuningStore = GEMMTuningStore()
    ) throws(OpError) {
        guard keysPerSplit >= 0 else {
            throw .invalidConfiguration(kernel: "attention_flash", detail: "split \(keysPerSplit) (≥ 0)")
        }
        if queriesPerItem != nil || keysPerTile != nil {
            let builtIn = AttentionTiles.builtIn(headDim: 64)
            let tiles = AttentionTiles(
                queriesPerItem: queriesPerItem ?? builtIn.queriesPerItem,
                keysPerTile: keysPerTile ?? builtIn.keysPerTile)
            try tiles.validate()
            fixedTiles = tiles
        } else {
            fixedTiles = nil
        }
        self.backend = backend
        self.tuning = tuning ?? store.resolve(for: backend.device).table
        self.keysPerSplit = keysPerSplit
    }

    /// The tiles the fused kernel uses for `headDim`.
    public func tiles(headDim: Int) -> AttentionTiles { fixedTiles ?? tuning.attentionTiles(headDim: headDim) }

    /// How many key ranges a decode step is split into (1: no split): one per `keysPerSplit`
    /// keys, but only as many as it takes to give the device ``workItemTarget`` work-items; with
    /// enough (batch, KV head) pairs to fill it, splitting only adds the merge pass.
    public func splits(for problem: AttentionProblem) -> Int {
        guard problem.seqQ == 1, keysPerSplit > 0 else { return 1 }
        let byDevice = ceilDiv(workItemTarget, problem.batch * problem.kvHeads)
        return max(1, min(64, ceilDiv(min(problem.seqK, problem.window ?? .max), keysPerSplit), byDevice))
    }

    /// Work-items a decode step should offer the device: a CPU driver runs one per core at a
    /// time, a GPU wants many per compute unit to hide latency. (On the 2-core PoCL device, 3
    /// unsplit KV heads read a 4096-key cache at ~36 GB/s, and 2–16 splits plus the merge measured
    /// 0.54–1.0× that speed at 300–4096 keys: `clinfer bench attention --decode-kv`.)
    public var workItemTarget: Int { backend.device.computeUnits * (backend.device.type == .cpu ? 1 : 64) }

    public func attention(
        _ problem: AttentionProblem, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, mask: DeviceTensor?,
        o: DeviceTensor
    ) throws {
        try encode(problem, q: q, k: k, v: v, mask: mask, o: o)
    }

    /// Enqueues the attention without waiting; `splits` overrides the decode split count.
    @discardableResult
    public func encode(
        _ problem: AttentionProblem, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, mask: DeviceTensor?,
        o: DeviceTensor, splits: Int? = nil
    ) throws -> EventSpan {
        try problem.validate(q: q, k: k, v: v, mask: mask, o: o)
        let common =
            "-DD=\(problem.headDim) -DKV_HALF=\(k.elementType == .float16 ? 1 : 0) -DHAS_MASK=\(mask == nil ? 0 : 1)"
            + " -DTOKEN_MAJOR=\(problem.tokenMajor ? 1 : 0) -DKEY_LENGTHS=\(problem.keyLengths == nil ? 0 : 1)"
            + " -DKV_SLOTS=\(problem.kvSlots == nil ? 0 : 1) -DWINDOW=\(problem.window ?? 0)"
        var extraArguments: [any KernelArgument] = mask.map { [$0.argument] } ?? []
        if let lengths = problem.keyLengths { extraArguments.append(try keyLengths.buffer(lengths, backend: backend)) }
        if let slots = problem.kvSlots { extraArguments.append(try kvSlots.buffer(slots, backend: backend)) }
        let queue = backend.queue
        let splitCount = splits ?? self.splits(for: problem)
        if problem.seqQ == 1 {
            return try encodeDecode(
                problem, splits: splitCount, common: common, q: q, k: k, v: v, extra: extraArguments, o: o)
        }
        let tiles = tiles(headDim: problem.headDim)
        let options =
            common + " -DBQ=\(tiles.queriesPerItem) -DBK=\(tiles.keysPerTile) -DCAUSAL=\(problem.causal ? 1 : 0)"
        let kernel = try backend.kernel(.attentionFlash, options: options)
        return EventSpan(
            try queue.enqueue(
                kernel, global: [ceilDiv(problem.seqQ, tiles.queriesPerItem), problem.heads, problem.batch],
                arguments: [
                    Int32(problem.seqQ), Int32(problem.seqK), Int32(problem.kvStride), Int32(problem.heads),
                    Int32(problem.kvHeads), Int32(problem.offset),
                    problem.scale, q.argument, k.argument, v.argument,
                ] + extraArguments + [o.argument]))
    }

    /// Enqueues decode attention (one query per head): the grouped kernel over `splits` key
    /// ranges, then the merge of their partials when there is more than one.
    private func encodeDecode(
        _ problem: AttentionProblem, splits: Int, common: String, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor,
        extra: [any KernelArgument], o: DeviceTensor
    ) throws -> EventSpan {
        let queue = backend.queue
        let keyEnd = problem.causal ? min(problem.seqK, problem.offset + 1) : problem.seqK
        let options = common + " -DGROUP=\(problem.heads / problem.kvHeads) -DSPLITS_ONE=\(splits == 1 ? 1 : 0)"
        let grouped = try backend.kernel(.attentionDecodeGrouped, options: options)
        // On CPU drivers a work-group runs on one thread: a work-item per group spreads them over the cores.
        let local = backend.device.type == .cpu ? [1, 1, 1] : nil
        let global = [splits, problem.kvHeads, problem.batch]
        func arguments(
            _ maxima: any KernelArgument, _ sums: any KernelArgument, _ outputs: any KernelArgument
        )
            -> [any KernelArgument]
        {
            [
                Int32(problem.seqK), Int32(problem.kvStride), Int32(keyEnd), Int32(problem.heads),
                Int32(problem.kvHeads), Int32(splits), problem.scale, q.argument, k.argument, v.argument,
            ] + extra + [maxima, sums, outputs]
        }
        guard splits > 1 else {
            return EventSpan(
                try queue.enqueue(
                    grouped, global: global, local: local, arguments: arguments(o.argument, o.argument, o.argument)))
        }
        let slots = problem.batch * problem.heads * splits
        let merge = try backend.kernel(.attentionDecodeMerge, options: common)
        return try partialMaxima.withTensor(count: slots, backend: backend) { maxima in
            try partialSums.withTensor(count: slots, backend: backend) { sums in
                try partialOutputs.withTensor(count: slots * problem.headDim, backend: backend) { outputs in
                    let first = try queue.enqueue(
                        grouped, global: global, local: local,
                        arguments: arguments(maxima.argument, sums.argument, outputs.argument))
                    let last = try queue.enqueue(
                        merge, global: [problem.heads, problem.batch],
                        arguments: [
                            Int32(problem.heads), Int32(splits), maxima.argument, sums.argument, outputs.argument,
                            o.argument,
                        ])
                    return EventSpan(first: first, last: last)
                }
            }
        }
    }
}
