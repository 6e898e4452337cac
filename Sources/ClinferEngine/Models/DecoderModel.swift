import ClinferOps
import Synchronization

/// Which logits a forward pass returns.
public enum LogitsSelection: Sendable {
    /// The last token's only (generation).
    case last
    /// Every token's, [tokens, vocabulary] (scoring, perplexity).
    case all
}

/// A decoder-only transformer on one set of ops (OpenCL or CPU), for every registered
/// architecture (``Architectures``): token embedding (optionally scaled), `layers` × (RMSNorm,
/// fused QKV projection (+ bias), RoPE (+ per-head Q/K norms) with the layer's base, grouped-query
/// causal attention over the KV cache (full or sliding-window), output projection (+ norm),
/// residual, RMSNorm, gated feed-forward (SwiGLU or GeGLU, + norm), residual), final RMSNorm
/// and the output head. The configuration says which optional steps run.
///
/// A forward pass over T tokens is prefill (T > 1: the GEMM paths) or decode (T = 1: GEMV and
/// split-KV attention); a batched decode step advances several sequences of a cache pool by one
/// token each in one pass. All enqueue every op without waiting and read back only the logits.
///
/// Sendable: forward passes run one at a time (``ForwardPasses``).
public final class DecoderModel<Ops: TransformerOps>: Sendable {
    public let configuration: DecoderConfiguration
    public let ops: Ops
    private let embedding: LinearWeight
    private let layers: [Layer]
    private let outputNorm: Ops.Tensor
    private let head: Ops.Weight
    /// RoPE tables by base (Gemma 3's local and global layers use two).
    private let ropeTables: [Double: RoPETable]
    private let passes: ForwardPasses<Workspace>
    private let fusedDecodeRows: Set<Int>

    /// One layer's weights on the device (optional parts per the configuration).
    private struct Layer: Sendable {
        let attentionNorm: Ops.Tensor, qkv: Ops.Weight, qkvBias: Ops.Tensor?, qNorm: Ops.Tensor?, kNorm: Ops.Tensor?
        let output: Ops.Weight, postAttentionNorm: Ops.Tensor?
        let ffnNorm: Ops.Tensor, gateUp: Ops.Weight, down: Ops.Weight, postFFNNorm: Ops.Tensor?
        let attention: DecoderConfiguration.LayerAttention
    }

    /// Uploads `weights`; `maxPositions` bounds the RoPE table (and so every cache's capacity).
    public init(
        configuration: DecoderConfiguration, weights: DecoderWeights, ops: Ops, maxPositions: Int? = nil,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws {
        self.configuration = configuration
        self.ops = ops
        embedding = weights.tokenEmbedding
        guard weights.layers.count == configuration.layers else {
            throw GenerationError.invalidParameter(
                "\(weights.layers.count) layers of weights for \(configuration.layers) configured")
        }
        var layers: [Layer] = []
        for (index, layer) in weights.layers.enumerated() {
            func optional(_ values: [Float]?) throws -> Ops.Tensor? { try values.map { try ops.constant($0) } }
            layers.append(
                Layer(
                    attentionNorm: try ops.constant(layer.attentionNorm), qkv: try ops.weight(layer.qkv),
                    qkvBias: try optional(layer.qkvBias), qNorm: try optional(layer.qNorm),
                    kNorm: try optional(layer.kNorm), output: try ops.weight(layer.output),
                    postAttentionNorm: try optional(layer.postAttentionNorm), ffnNorm: try ops.constant(layer.ffnNorm),
                    gateUp: try ops.weight(layer.gateUp), down: try ops.weight(layer.down),
                    postFFNNorm: try optional(layer.postFFNNorm), attention: configuration.layerAttention[index]))
            progress(index + 1, weights.layers.count + 1)
        }
        self.layers = layers
        fusedDecodeRows = Self.fusedDecodeRows(layers, ops: ops)
        outputNorm = try ops.constant(weights.outputNorm)
        head = try ops.weight(weights.output)
        // Keep the decode batches' activations (up to the scheduler's slots); drop old prompt sizes.
        passes = ForwardPasses(limit: 24, keepingUpTo: 16) {
            try Workspace(ops: ops, tokens: $0, configuration: configuration)
        }
        let positions = min(maxPositions ?? configuration.contextLength, configuration.contextLength)
        var tables: [Double: RoPETable] = [:]
        for base in Set(configuration.layerAttention.map(\.ropeBase)) {
            tables[base] = try RoPETable(headDim: configuration.headDim, positions: positions, base: base)
        }
        ropeTables = tables
        self.maxPositions = positions
        progress(weights.layers.count + 1, weights.layers.count + 1)
    }

    /// Positions a cache can hold at most.
    public let maxPositions: Int

    /// A KV cache for `sequences` sequences (slots) of up to `capacity` positions each.
    public func makeCache(capacity: Int? = nil, sequences: Int = 1) throws -> KVCache<Ops> {
        let c = configuration
        guard sequences >= 1 else { throw GenerationError.invalidParameter("a KV cache holds at least one sequence") }
        return try KVCache(
            ops: ops, layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim,
            capacity: min(capacity ?? maxPositions, maxPositions), sequences: sequences)
    }

    /// Runs `tokens` through the model after the positions sequence `slot` of the cache holds,
    /// appends their keys and values there, and returns the requested logits (a prompt, or one
    /// sequence's decode step).
    public func forward(
        _ tokens: [Int], cache: KVCache<Ops>, slot: Int = 0, logits: LogitsSelection = .last
    ) throws -> [Float] {
        let c = configuration, count = tokens.count
        guard (0..<cache.sequences).contains(slot) else {
            throw GenerationError.invalidParameter("slot \(slot) outside the cache's \(cache.sequences) sequences")
        }
        guard count >= 1 else { throw GenerationError.emptyPrompt }
        // Refused before any activations are allocated for it.
        guard count <= cache.capacity else {
            throw GenerationError.contextLengthExceeded(requested: count, limit: cache.capacity)
        }
        // The cache's length is read and advanced inside the pass: passes run one at a time.
        return try passes.run(tokens: count) { w in
            let position = cache.length(slot: slot)
            guard position + count <= cache.capacity else {
                throw GenerationError.contextLengthExceeded(requested: position + count, limit: cache.capacity)
            }
            let rope = RoPEProblem(
                tokens: count, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, position: position,
                kvStride: cache.capacity, neox: c.ropeNeox, slots: cache.sequences, slot: slot,
                headNormEps: c.headNorms ? c.normEps : nil)
            let attention = AttentionProblem(
                heads: c.heads, kvHeads: c.kvHeads, seqQ: count, seqK: position + count, headDim: c.headDim,
                causal: true, offset: position, scale: c.attentionScale, kvStride: cache.capacity, tokenMajor: true,
                kvSequences: cache.sequences, kvSlots: cache.sequences == 1 ? nil : [slot])
            try blocks(tokens, rope: rope, attention: attention, cache: cache, workspace: w)
            cache.setLength(position + count, slot: slot)
            switch logits {
            case .last:
                // One token (decode): its row is all of `normed`, so no copy.
                let last = count == 1 ? w.normed : w.lastRow
                if count > 1 {
                    try ops.copy(w.normed, offset: (count - 1) * c.embedding, count: c.embedding, to: w.lastRow)
                }
                try ops.matmul(last, head, w.lastLogits, rows: 1)
                return try ops.read(w.lastLogits)
            case .all:
                let all = try ops.tensor(count: count * c.vocabularySize)
                try ops.matmul(w.normed, head, all, rows: count)
                return try ops.read(all)
            }
        }
    }

    /// One decode step of several sequences in one forward pass: `tokens[i]` is appended to
    /// sequence `slots[i]` of the cache (distinct slots). The projections run as one matmul over
    /// the batch (each weight read once per step, not once per sequence) and attention reads each
    /// sequence's own cache in one launch. Returns each sequence's next-token logits.
    public func decode(_ tokens: [Int], slots: [Int], cache: KVCache<Ops>) throws -> [[Float]] {
        guard slots.count == tokens.count, Set(slots).count == tokens.count else {
            throw GenerationError.invalidParameter(
                "a decode step needs one distinct cache slot per token (slots \(slots), \(tokens.count) tokens)")
        }
        return try prefill(zip(tokens, slots).map { ([$0], $1) }, cache: cache)
    }

    /// Several sequences' next tokens in one forward pass (prompts admitted together, or chunks
    /// of them): `runs[i].tokens` are appended to sequence `runs[i].slot` (distinct slots). Every
    /// token is a row of one batch: the projections read each weight once for all of them, and
    /// attention takes each row as one query over its own sequence's keys up to its position.
    /// Returns each run's last-token logits.
    public func prefill(_ runs: [(tokens: [Int], slot: Int)], cache: KVCache<Ops>) throws -> [[Float]] {
        let c = configuration, count = runs.reduce(0) { $0 + $1.tokens.count }
        guard count >= 1, runs.allSatisfy({ !$0.tokens.isEmpty }) else { throw GenerationError.emptyPrompt }
        let slots = runs.map(\.slot)
        guard Set(slots).count == runs.count, slots.allSatisfy({ (0..<cache.sequences).contains($0) }) else {
            throw GenerationError.invalidParameter(
                "a batched pass needs one distinct cache slot per run (slots \(slots))")
        }
        guard count <= maxPositions * runs.count else {
            throw GenerationError.contextLengthExceeded(requested: count, limit: cache.capacity)
        }
        return try passes.run(tokens: count) { w in
            var placements: [CachePlacement] = [], rowSlots: [Int] = [], lastRows: [Int] = []
            for run in runs {
                let start = cache.length(slot: run.slot)
                guard start + run.tokens.count <= cache.capacity else {
                    throw GenerationError.contextLengthExceeded(
                        requested: start + run.tokens.count, limit: cache.capacity)
                }
                for offset in run.tokens.indices {
                    placements.append(CachePlacement(slot: run.slot, position: start + offset))
                    rowSlots.append(run.slot)
                }
                lastRows.append(placements.count - 1)
            }
            let rope = RoPEProblem(
                tokens: count, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, position: 0,
                kvStride: cache.capacity, neox: c.ropeNeox, slots: cache.sequences, placements: placements,
                headNormEps: c.headNorms ? c.normEps : nil)
            // Each row is one query against its own sequence's keys, its own position included.
            let keyLengths = placements.map { $0.position + 1 }
            let attention = AttentionProblem(
                batch: count, heads: c.heads, kvHeads: c.kvHeads, seqQ: 1, seqK: keyLengths.max()!, headDim: c.headDim,
                scale: c.attentionScale, kvStride: cache.capacity, tokenMajor: true, keyLengths: keyLengths,
                kvSequences: cache.sequences, kvSlots: rowSlots)
            try blocks(runs.flatMap(\.tokens), rope: rope, attention: attention, cache: cache, workspace: w)
            for run in runs { cache.setLength(cache.length(slot: run.slot) + run.tokens.count, slot: run.slot) }
            // A decode step's rows are all last rows (its tensors live with its workspace); a
            // prompt batch gathers each run's last row and computes only those logits.
            var last = w.normed
            let logits: Ops.Tensor
            if runs.count == count {
                logits = try w.batchLogits(ops: ops, vocabulary: c.vocabularySize)
            } else {
                last = try ops.tensor(count: runs.count * c.embedding)
                for (index, row) in lastRows.enumerated() {
                    try ops.copy(
                        w.normed, offset: row * c.embedding, count: c.embedding, to: last, at: index * c.embedding)
                }
                logits = try ops.tensor(count: runs.count * c.vocabularySize)
            }
            try ops.matmul(last, head, logits, rows: runs.count)
            let flat = try ops.read(logits)
            return (0..<runs.count).map { Array(flat[$0 * c.vocabularySize..<($0 + 1) * c.vocabularySize]) }
        }
    }

    /// The transformer blocks over `tokens` (embedding to the final norm, left in the workspace's
    /// `normed`), with keys and values placed in the cache as `rope` says. Each layer attends with
    /// its own RoPE base and window.
    private func blocks(
        _ tokens: [Int], rope: RoPEProblem, attention: AttentionProblem, cache: KVCache<Ops>, workspace w: Workspace
    ) throws {
        let c = configuration, count = tokens.count
        if let bad = tokens.first(where: { !(0..<c.vocabularySize).contains($0) }) {
            throw GenerationError.invalidToken(bad, vocabularySize: c.vocabularySize)
        }
        var embedded = try tokens.flatMap { try embedding.row($0) }
        if let scale = c.embeddingScale { for index in embedded.indices { embedded[index] *= scale } }
        try ops.write(embedded, to: w.x)
        let norm = NormProblem(.rms, rows: count, width: c.embedding, eps: c.normEps)
        if fusesDecode(rows: count) {
            for (index, layer) in layers.enumerated() {
                try fusedLayer(layer, index: index, norm: norm, rope: rope, attention: attention, cache: cache, w)
            }
            return try ops.normalize(norm, x: w.x, residual: nil, weight: outputNorm, bias: nil, out: w.normed)
        }
        /// What the next norm adds to the residual stream (nil before the first layer).
        var pending: Ops.Tensor?
        for (index, layer) in layers.enumerated() {
            try ops.normalize(norm, x: w.x, residual: pending, weight: layer.attentionNorm, bias: nil, out: w.normed)
            try ops.matmul(w.normed, layer.qkv, w.qkv, rows: count)
            if let bias = layer.qkvBias { try ops.biasAdd(w.qkv, bias: bias) }
            try attend(layer, index: index, rope: rope, attention: attention, cache: cache, w)
            try ops.matmul(w.attention, layer.output, w.attentionOut, rows: count)
            try ops.normalize(
                norm, x: w.x, residual: postNormed(w.attentionOut, layer.postAttentionNorm, norm, w),
                weight: layer.ffnNorm,
                bias: nil, out: w.normed)
            try ops.gatedProjection(
                c.activation, w.normed, layer.gateUp, gateUp: w.gateUp, out: w.activated, rows: count,
                width: c.feedForward)
            try ops.matmul(w.activated, layer.down, w.ffnOut, rows: count)
            pending = try postNormed(w.ffnOut, layer.postFFNNorm, norm, w)
        }
        try ops.normalize(norm, x: w.x, residual: pending, weight: outputNorm, bias: nil, out: w.normed)
    }

    /// Whether a pass over `rows` tokens runs ``fusedLayer(_:index:norm:rope:attention:cache:_:)``.
    private func fusesDecode(rows: Int) -> Bool { fusedDecodeRows.contains(rows) }

    /// The pass sizes (up to 16 tokens) at which the ops fuse every layer's projections, in a
    /// family without projection biases or post-norms; decided once, at load.
    private static func fusedDecodeRows(_ layers: [Layer], ops: Ops) -> Set<Int> {
        Set(
            (1...GEMMShapeClass.skinnyMaxM).filter { rows in
                layers.allSatisfy { layer in
                    layer.qkvBias == nil && layer.postAttentionNorm == nil && layer.postFFNNorm == nil
                        && ops.fusesDecode(
                            projections: [layer.qkv, layer.output, layer.down], gated: layer.gateUp, rows: rows)
                }
            })
    }

    /// One layer in six launches: the QKV projection with the attention norm as its prologue,
    /// RoPE with the KV-cache store, attention, the output projection adding into the residual
    /// stream, the gate/up projection with the feed-forward norm as its prologue and the
    /// activation as its epilogue, and the down projection adding into the residual stream.
    private func fusedLayer(
        _ layer: Layer, index: Int, norm: NormProblem, rope: RoPEProblem, attention: AttentionProblem,
        cache: KVCache<Ops>, _ w: Workspace
    ) throws {
        let c = configuration, count = norm.rows
        try ops.normalizedMatmul(
            norm, x: w.x, normWeight: layer.attentionNorm, layer.qkv, w.qkv, rows: count, normed: w.normed)
        try attend(layer, index: index, rope: rope, attention: attention, cache: cache, w)
        try ops.residualMatmul(w.attention, layer.output, residual: w.x, rows: count, scratch: w.attentionOut)
        try ops.normalizedGatedProjection(
            c.activation, norm, x: w.x, normWeight: layer.ffnNorm, layer.gateUp, gateUp: w.gateUp, out: w.activated,
            rows: count, width: c.feedForward, normed: w.normed)
        try ops.residualMatmul(w.activated, layer.down, residual: w.x, rows: count, scratch: w.ffnOut)
    }

    /// RoPE on the workspace's `qkv` (Q into `q`, K and V into the layer's cache) with the
    /// layer's base, then attention over the cache with the layer's window into `attention`.
    private func attend(
        _ layer: Layer, index: Int, rope: RoPEProblem, attention: AttentionProblem, cache: KVCache<Ops>, _ w: Workspace
    ) throws {
        try ops.rope(
            rope, table: ropeTables[layer.attention.ropeBase]!, qkv: w.qkv, q: w.q, k: cache.keys[index],
            v: cache.values[index], qNorm: layer.qNorm, kNorm: layer.kNorm)
        var layerAttention = attention
        layerAttention.window = layer.attention.window
        try ops.attention(
            layerAttention, q: w.q, k: cache.keys[index], v: cache.values[index], mask: nil, o: w.attention)
    }

    /// `output`, or its RMSNorm by `weight` (in the workspace's `postNormed`) when the family
    /// normalises block outputs before the residual add.
    private func postNormed(
        _ output: Ops.Tensor, _ weight: Ops.Tensor?, _ norm: NormProblem, _ w: Workspace
    ) throws
        -> Ops.Tensor
    {
        guard let weight else { return output }
        try ops.normalize(norm, x: output, residual: nil, weight: weight, bias: nil, out: w.postNormed)
        return w.postNormed
    }

    /// Activations for a forward pass over `tokens` tokens, reused across passes of that size.
    private final class Workspace: Sendable {
        let x, normed, qkv, q, attention, attentionOut, gateUp, activated, ffnOut, postNormed: Ops.Tensor
        let lastRow, lastLogits: Ops.Tensor

        init(ops: Ops, tokens t: Int, configuration c: DecoderConfiguration) throws {
            x = try ops.tensor(count: t * c.embedding)
            normed = try ops.tensor(count: t * c.embedding)
            qkv = try ops.tensor(count: t * c.qkvWidth)
            q = try ops.tensor(count: t * c.attentionWidth)
            attention = try ops.tensor(count: t * c.attentionWidth)
            attentionOut = try ops.tensor(count: t * c.embedding)
            gateUp = try ops.tensor(count: t * 2 * c.feedForward)
            activated = try ops.tensor(count: t * c.feedForward)
            ffnOut = try ops.tensor(count: t * c.embedding)
            postNormed = try ops.tensor(count: c.postNorms ? t * c.embedding : 1)
            lastRow = try ops.tensor(count: c.embedding)
            lastLogits = try ops.tensor(count: c.vocabularySize)
            tokens = t
        }

        let tokens: Int
        private let rowLogits = Mutex<Ops.Tensor?>(nil)

        /// [tokens, vocabulary] logits of a batched decode step, allocated on first use.
        func batchLogits(ops: Ops, vocabulary: Int) throws -> Ops.Tensor {
            try rowLogits.withLock { stored throws -> Ops.Tensor in
                if let stored { return stored }
                let fresh = try ops.tensor(count: tokens * vocabulary)
                stored = fresh
                return fresh
            }
        }
    }
}
