import ClinferOps

/// Which logits a forward pass returns.
public enum LogitsSelection: Sendable {
    /// The last token's only (generation).
    case last
    /// Every token's, [tokens, vocabulary] (scoring, perplexity).
    case all
}

/// A Llama-family decoder on one backend: token embedding, `layers` × (RMSNorm, fused QKV
/// projection, RoPE, grouped-query causal attention over the KV cache, output projection,
/// residual, RMSNorm, SwiGLU feed-forward, residual), final RMSNorm and the output head.
///
/// A forward pass over T tokens is prefill (T > 1: the GEMM paths) or decode (T = 1: GEMV and
/// split-KV attention); both enqueue every op without waiting and read back only the logits.
public final class LlamaModel<Backend: InferenceBackend>: @unchecked Sendable {
    public let configuration: LlamaConfiguration
    public let backend: Backend
    private let embedding: LinearWeight
    private let layers: [(attentionNorm: Backend.Tensor, qkv: Backend.Weight, output: Backend.Weight,
                          ffnNorm: Backend.Tensor, gateUp: Backend.Weight, down: Backend.Weight)]
    private let outputNorm: Backend.Tensor
    private let head: Backend.Weight
    private let ropeTable: RoPETable
    private var workspaces: [Int: Workspace] = [:]

    /// Uploads `weights`; `maxPositions` bounds the RoPE table (and so every cache's capacity).
    public init(configuration: LlamaConfiguration, weights: LlamaWeights, backend: Backend, maxPositions: Int? = nil,
                progress: (Int, Int) -> Void = { _, _ in }) throws {
        self.configuration = configuration
        self.backend = backend
        embedding = weights.tokenEmbedding
        var layers: [(Backend.Tensor, Backend.Weight, Backend.Weight, Backend.Tensor, Backend.Weight, Backend.Weight)] = []
        for (index, layer) in weights.layers.enumerated() {
            layers.append((try backend.constant(layer.attentionNorm), try backend.weight(layer.qkv), try backend.weight(layer.output),
                           try backend.constant(layer.ffnNorm), try backend.weight(layer.gateUp), try backend.weight(layer.down)))
            progress(index + 1, weights.layers.count + 1)
        }
        self.layers = layers
        outputNorm = try backend.constant(weights.outputNorm)
        head = try backend.weight(weights.output)
        ropeTable = try RoPETable(headDim: configuration.headDim, positions: min(maxPositions ?? configuration.contextLength, configuration.contextLength),
                                  base: configuration.ropeBase)
        progress(weights.layers.count + 1, weights.layers.count + 1)
    }

    /// Positions a cache can hold at most.
    public var maxPositions: Int { ropeTable.positions }

    /// A KV cache for one sequence of up to `capacity` positions.
    public func makeCache(capacity: Int? = nil) throws -> KVCache<Backend> {
        let c = configuration
        return try KVCache(backend: backend, layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim,
                           capacity: min(capacity ?? maxPositions, maxPositions))
    }

    /// Runs `tokens` through the model after the cache's positions, appends their keys and
    /// values to the cache, and returns the requested logits.
    public func forward(_ tokens: [Int], cache: KVCache<Backend>, logits: LogitsSelection = .last) throws -> [Float] {
        let c = configuration, count = tokens.count, position = cache.length
        guard count >= 1 else { throw GenerationError.emptyPrompt }
        guard position + count <= cache.capacity else {
            throw GenerationError.contextLengthExceeded(requested: position + count, limit: cache.capacity)
        }
        if let bad = tokens.first(where: { !(0..<c.vocabularySize).contains($0) }) {
            throw GenerationError.invalidToken(bad, vocabularySize: c.vocabularySize)
        }
        let w = try workspace(tokens: count)
        try backend.write(try tokens.flatMap { try embedding.row($0) }, to: w.x)
        let norm = NormProblem(.rms, rows: count, width: c.embedding, eps: c.normEps)
        let rope = RoPEProblem(tokens: count, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, position: position,
                               kvStride: cache.capacity, neox: c.ropeNeox)
        let attention = AttentionProblem(heads: c.heads, kvHeads: c.kvHeads, seqQ: count, seqK: position + count, headDim: c.headDim,
                                         causal: true, offset: position, kvStride: cache.capacity, tokenMajor: true)
        for (index, layer) in layers.enumerated() {
            // The previous layer's feed-forward output joins the residual stream inside the norm.
            try backend.normalize(norm, x: w.x, residual: index == 0 ? nil : w.ffnOut, weight: layer.attentionNorm, bias: nil, out: w.normed)
            try backend.matmul(w.normed, layer.qkv, w.qkv, rows: count)
            try backend.rope(rope, table: ropeTable, qkv: w.qkv, q: w.q, k: cache.keys[index], v: cache.values[index])
            try backend.attention(attention, q: w.q, k: cache.keys[index], v: cache.values[index], mask: nil, o: w.attention)
            try backend.matmul(w.attention, layer.output, w.attentionOut, rows: count)
            try backend.normalize(norm, x: w.x, residual: w.attentionOut, weight: layer.ffnNorm, bias: nil, out: w.normed)
            try backend.matmul(w.normed, layer.gateUp, w.gateUp, rows: count)
            try backend.swiglu(tokens: count, width: c.feedForward, gateUp: w.gateUp, out: w.activated)
            try backend.matmul(w.activated, layer.down, w.ffnOut, rows: count)
        }
        try backend.normalize(norm, x: w.x, residual: w.ffnOut, weight: outputNorm, bias: nil, out: w.normed)
        cache.length = position + count
        switch logits {
        case .last:
            try backend.copy(w.normed, offset: (count - 1) * c.embedding, count: c.embedding, to: w.lastRow)
            try backend.matmul(w.lastRow, head, w.lastLogits, rows: 1)
            return try backend.read(w.lastLogits)
        case .all:
            let all = try backend.tensor(count: count * c.vocabularySize)
            try backend.matmul(w.normed, head, all, rows: count)
            return try backend.read(all)
        }
    }

    /// Activations for a forward pass over `tokens` tokens, reused across passes of that size.
    private final class Workspace: @unchecked Sendable {
        let x, normed, qkv, q, attention, attentionOut, gateUp, activated, ffnOut, lastRow, lastLogits: Backend.Tensor

        init(backend: Backend, tokens t: Int, configuration c: LlamaConfiguration) throws {
            x = try backend.tensor(count: t * c.embedding)
            normed = try backend.tensor(count: t * c.embedding)
            qkv = try backend.tensor(count: t * c.qkvWidth)
            q = try backend.tensor(count: t * c.heads * c.headDim)
            attention = try backend.tensor(count: t * c.heads * c.headDim)
            attentionOut = try backend.tensor(count: t * c.embedding)
            gateUp = try backend.tensor(count: t * 2 * c.feedForward)
            activated = try backend.tensor(count: t * c.feedForward)
            ffnOut = try backend.tensor(count: t * c.embedding)
            lastRow = try backend.tensor(count: c.embedding)
            lastLogits = try backend.tensor(count: c.vocabularySize)
        }
    }

    private func workspace(tokens: Int) throws -> Workspace {
        if let existing = workspaces[tokens] { return existing }
        if workspaces.count >= 4 { workspaces = workspaces.filter { $0.key == 1 } }  // keep decode's, drop old prompt sizes
        let fresh = try Workspace(backend: backend, tokens: tokens, configuration: configuration)
        workspaces[tokens] = fresh
        return fresh
    }
}
