/// The tensors of a decoder GGUF model on the host, shaped for the forward pass: Q, K and V
/// stacked into one projection and gate and up into another (one launch each instead of three
/// and two; parts in different GGUF formats stay quantized when they share a device form), the
/// embedding table kept quantized (rows are dequantized on lookup). Which optional tensors are
/// read follows the ``DecoderConfiguration``.
public struct DecoderWeights: Sendable {
    public struct Layer: Sendable {
        public let attentionNorm: [Float]
        public let qkv: LinearWeight
        /// Q, K and V biases, concatenated (Qwen2).
        public let qkvBias: [Float]?
        /// Per-head RMSNorm weights of Q and K [headDim] (Gemma 3).
        public let qNorm: [Float]?
        public let kNorm: [Float]?
        public let output: LinearWeight
        /// RMSNorm of the attention output before the residual add (Gemma 3).
        public let postAttentionNorm: [Float]?
        public let ffnNorm: [Float]
        public let gateUp: LinearWeight
        public let down: LinearWeight
        /// RMSNorm of the feed-forward output before the residual add (Gemma 3).
        public let postFFNNorm: [Float]?
    }

    public let tokenEmbedding: LinearWeight
    public let layers: [Layer]
    public let outputNorm: [Float]
    /// The output head; the token embedding when the model ties them (no `output.weight`).
    public let output: LinearWeight

    /// Reads every tensor the configuration needs, checking shapes; `progress(done, total)` is
    /// called after each layer.
    public init(
        gguf: GGUFFile, configuration c: DecoderConfiguration, progress: (Int, Int) -> Void = { _, _ in }
    )
        throws
    {
        func info(_ name: String) throws -> GGUFTensorInfo {
            guard let info = gguf.tensor(named: name) else {
                throw ModelFormatError.missing(path: gguf.path, detail: "tensor \(name) not found")
            }
            return info
        }
        func matrix(_ name: String, rows: Int, columns: Int) throws -> LinearWeight {
            let info = try info(name)
            guard info.dimensions == [columns, rows] else {
                throw ModelFormatError.corrupt(
                    path: gguf.path,
                    detail: "tensor \(name) has dimensions \(info.dimensions), expected [\(columns), \(rows)]")
            }
            if info.type.quantFormat != nil { return .quantized(try gguf.quantizedMatrix(info)) }
            return .dense(values: try gguf.floats(of: info), rows: rows, columns: columns)
        }
        func vector(_ name: String, count: Int) throws -> [Float] {
            let info = try info(name)
            guard info.dimensions == [count] else {
                throw ModelFormatError.corrupt(
                    path: gguf.path, detail: "tensor \(name) has dimensions \(info.dimensions), expected [\(count)]")
            }
            return try gguf.floats(of: info)
        }
        /// The projections stacked into one, or a clear error where that would widen them to fp32.
        func stacked(_ parts: [LinearWeight], _ what: String) throws -> LinearWeight {
            do {
                return try .stacking(parts)
            } catch {
                throw ModelFormatError.unsupported(path: gguf.path, detail: "\(what): \(error)")
            }
        }
        let total = c.layers + 2
        tokenEmbedding = try matrix("token_embd.weight", rows: c.vocabularySize, columns: c.embedding)
        progress(1, total)
        var layers: [Layer] = []
        let (qWidth, kvWidth) = (c.attentionWidth, c.kvHeads * c.headDim)
        for index in 0..<c.layers {
            let p = "blk.\(index)."
            layers.append(
                Layer(
                    attentionNorm: try vector(p + "attn_norm.weight", count: c.embedding),
                    qkv: try stacked(
                        [
                            try matrix(p + "attn_q.weight", rows: qWidth, columns: c.embedding),
                            try matrix(p + "attn_k.weight", rows: kvWidth, columns: c.embedding),
                            try matrix(p + "attn_v.weight", rows: kvWidth, columns: c.embedding),
                        ], "layer \(index) Q/K/V"),
                    qkvBias: c.qkvBias
                        ? try vector(p + "attn_q.bias", count: qWidth) + vector(p + "attn_k.bias", count: kvWidth)
                            + vector(p + "attn_v.bias", count: kvWidth) : nil,
                    qNorm: c.headNorms ? try vector(p + "attn_q_norm.weight", count: c.headDim) : nil,
                    kNorm: c.headNorms ? try vector(p + "attn_k_norm.weight", count: c.headDim) : nil,
                    output: try matrix(p + "attn_output.weight", rows: c.embedding, columns: qWidth),
                    postAttentionNorm: c.postNorms
                        ? try vector(p + "post_attention_norm.weight", count: c.embedding) : nil,
                    ffnNorm: try vector(p + "ffn_norm.weight", count: c.embedding),
                    gateUp: try stacked(
                        [
                            try matrix(p + "ffn_gate.weight", rows: c.feedForward, columns: c.embedding),
                            try matrix(p + "ffn_up.weight", rows: c.feedForward, columns: c.embedding),
                        ], "layer \(index) gate/up"),
                    down: try matrix(p + "ffn_down.weight", rows: c.embedding, columns: c.feedForward),
                    postFFNNorm: c.postNorms ? try vector(p + "post_ffw_norm.weight", count: c.embedding) : nil))
            progress(index + 2, total)
        }
        self.layers = layers
        outputNorm = try vector("output_norm.weight", count: c.embedding)
        output =
            gguf.tensor(named: "output.weight") == nil
            ? tokenEmbedding
            : try matrix("output.weight", rows: c.vocabularySize, columns: c.embedding)
        progress(total, total)
    }
}
