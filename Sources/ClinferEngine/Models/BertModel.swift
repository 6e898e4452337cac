import ClinferOps

/// A BERT encoder on one set of ops (OpenCL or CPU): word + position + token-type embeddings and LayerNorm, then
/// `layers` × (fused QKV projection, bias and split, bidirectional attention with a padding mask,
/// output projection and bias, residual + LayerNorm, feed-forward with bias and exact GELU,
/// projection and bias, residual + LayerNorm) — post-LN, as BERT is.
///
/// A forward pass runs a padded batch ([batch, seq] tokens, every text padded to the longest):
/// the projections are GEMMs over all batch·seq rows, attention skips each text's padding keys
/// (``AttentionProblem/keyLengths``), and only the last hidden states are read back.
///
/// Sendable: forward passes run one at a time (``ForwardPasses``).
public final class BertModel<Ops: TransformerOps>: Sendable {
    public let configuration: BertConfiguration
    public let ops: Ops
    private let wordEmbeddings: [Float], positionEmbeddings: [Float], tokenTypeEmbeddings: [Float]
    private let embeddingNorm: (weight: Ops.Tensor, bias: Ops.Tensor)
    private let layers: [Layer]
    private let passes: ForwardPasses<Workspace>

    private struct Layer {
        let qkv: Ops.Weight, qkvBias: Ops.Tensor
        let output: Ops.Weight, outputBias: Ops.Tensor
        let attentionNorm: (weight: Ops.Tensor, bias: Ops.Tensor)
        let intermediate: Ops.Weight, intermediateBias: Ops.Tensor
        let down: Ops.Weight, downBias: Ops.Tensor
        let outputNorm: (weight: Ops.Tensor, bias: Ops.Tensor)
    }

    /// Uploads `weights` (the embedding tables stay on the host).
    public init(configuration: BertConfiguration, weights: BertWeights, ops: Ops) throws {
        self.configuration = configuration
        self.ops = ops
        wordEmbeddings = weights.wordEmbeddings
        positionEmbeddings = weights.positionEmbeddings
        tokenTypeEmbeddings = weights.tokenTypeEmbeddings
        func norm(_ norm: BertWeights.Norm) throws -> (weight: Ops.Tensor, bias: Ops.Tensor) {
            (try ops.constant(norm.weight), try ops.constant(norm.bias))
        }
        passes = ForwardPasses(limit: 4, keepingUpTo: 0) {
            try Workspace(ops: ops, tokens: $0, configuration: configuration)
        }
        embeddingNorm = try norm(weights.embeddingNorm)
        layers = try weights.layers.map { layer in
            Layer(
                qkv: try ops.weight(layer.qkv), qkvBias: try ops.constant(layer.qkvBias),
                output: try ops.weight(layer.output), outputBias: try ops.constant(layer.outputBias),
                attentionNorm: try norm(layer.attentionNorm),
                intermediate: try ops.weight(layer.intermediate),
                intermediateBias: try ops.constant(layer.intermediateBias),
                down: try ops.weight(layer.down), downBias: try ops.constant(layer.downBias),
                outputNorm: try norm(layer.outputNorm))
        }
    }

    /// The last hidden states of `batch`, [batch.count · batch.sequenceLength, hidden]; rows of
    /// padding positions hold values to ignore.
    public func forward(_ batch: WordPieceBatch) throws -> [Float] {
        let c = configuration, count = batch.count, length = batch.sequenceLength, tokens = count * length, h = c.hidden
        guard count >= 1, length >= 1 else { throw GenerationError.emptyPrompt }
        guard length <= c.maxPositions else {
            throw GenerationError.contextLengthExceeded(requested: length, limit: c.maxPositions)
        }
        if let bad = batch.paddedIDs.first(where: { !(0..<c.vocabularySize).contains($0) }) {
            throw GenerationError.invalidToken(bad, vocabularySize: c.vocabularySize)
        }
        return try passes.run(tokens: tokens) { w in
            // Embedding sum on the host (a gather of rows; token type 0 for single-segment input).
            var embedded = [Float](repeating: 0, count: tokens * h)
            embedded.withUnsafeMutableBufferPointer { out in
                wordEmbeddings.withUnsafeBufferPointer { word in
                    positionEmbeddings.withUnsafeBufferPointer { position in
                        tokenTypeEmbeddings.withUnsafeBufferPointer { type in
                            for t in 0..<tokens {
                                let id = batch.paddedIDs[t], s = t % length
                                for j in 0..<h { out[t * h + j] = word[id * h + j] + position[s * h + j] + type[j] }
                            }
                        }
                    }
                }
            }
            try ops.write(embedded, to: w.x)
            let norm = NormProblem(.layer, rows: tokens, width: h, eps: c.layerNormEps)
            try ops.normalize(
                norm, x: w.x, residual: nil, weight: embeddingNorm.weight, bias: embeddingNorm.bias, out: w.hidden)
            let split = QKVSplitProblem(batch: count, seq: length, heads: c.heads, headDim: c.headDim)
            let lengths = batch.lengths
            let attention = AttentionProblem(
                batch: count, heads: c.heads, seqQ: length, seqK: length, headDim: c.headDim, tokenMajor: true,
                keyLengths: lengths.allSatisfy { $0 == length } ? nil : lengths)
            for layer in layers {
                try ops.matmul(w.hidden, layer.qkv, w.qkv, rows: tokens)
                try ops.splitQKV(split, qkv: w.qkv, bias: layer.qkvBias, q: w.q, k: w.k, v: w.v)
                try ops.attention(attention, q: w.q, k: w.k, v: w.v, mask: nil, o: w.context)
                try ops.matmul(w.context, layer.output, w.projected, rows: tokens)
                try ops.biasAdd(w.projected, bias: layer.outputBias)
                // hidden += projected, then attended = LayerNorm(hidden).
                try ops.normalize(
                    norm, x: w.hidden, residual: w.projected, weight: layer.attentionNorm.weight,
                    bias: layer.attentionNorm.bias,
                    out: w.attended)
                try ops.matmul(w.attended, layer.intermediate, w.inner, rows: tokens)
                try ops.biasGeluErf(w.inner, bias: layer.intermediateBias)
                try ops.matmul(w.inner, layer.down, w.projected, rows: tokens)
                try ops.biasAdd(w.projected, bias: layer.downBias)
                // attended += projected, then hidden = LayerNorm(attended): the next layer's input.
                try ops.normalize(
                    norm, x: w.attended, residual: w.projected, weight: layer.outputNorm.weight,
                    bias: layer.outputNorm.bias,
                    out: w.hidden)
            }
            return try ops.read(w.hidden)
        }
    }

    /// Activations for a forward pass over `tokens` (batch · seq) positions, reused across passes of that size.
    private final class Workspace: Sendable {
        let x, hidden, qkv, q, k, v, context, projected, attended, inner: Ops.Tensor

        init(ops: Ops, tokens t: Int, configuration c: BertConfiguration) throws {
            x = try ops.tensor(count: t * c.hidden)
            hidden = try ops.tensor(count: t * c.hidden)
            qkv = try ops.tensor(count: t * 3 * c.hidden)
            q = try ops.tensor(count: t * c.hidden)
            k = try ops.tensor(count: t * c.hidden)
            v = try ops.tensor(count: t * c.hidden)
            context = try ops.tensor(count: t * c.hidden)
            projected = try ops.tensor(count: t * c.hidden)
            attended = try ops.tensor(count: t * c.hidden)
            inner = try ops.tensor(count: t * c.intermediate)
        }
    }
}
