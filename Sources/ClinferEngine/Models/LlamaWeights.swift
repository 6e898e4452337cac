/// The tensors of a Llama-family GGUF model on the host, shaped for the forward pass: Q, K and V
/// stacked into one projection and gate and up into another (one launch each instead of three
/// and two), the embedding table kept quantized (rows are dequantized on lookup).
public struct LlamaWeights: Sendable {
    public struct Layer: Sendable {
        public let attentionNorm: [Float]
        public let qkv: LinearWeight
        public let output: LinearWeight
        public let ffnNorm: [Float]
        public let gateUp: LinearWeight
        public let down: LinearWeight
    }

    public let tokenEmbedding: LinearWeight
    public let layers: [Layer]
    public let outputNorm: [Float]
    /// The output head; the token embedding when the model ties them (no `output.weight`).
    public let output: LinearWeight

    /// Reads every tensor the configuration needs, checking shapes; `progress(done, total)` is
    /// called after each layer.
    public init(gguf: GGUFFile, configuration c: LlamaConfiguration, progress: (Int, Int) -> Void = { _, _ in }) throws
    {
        func matrix(_ name: String, rows: Int, columns: Int) throws -> LinearWeight {
            guard let info = gguf.tensor(named: name) else {
                throw ModelFormatError.missing(path: gguf.path, detail: "tensor \(name) not found")
            }
            guard info.dimensions == [columns, rows] else {
                throw ModelFormatError.corrupt(
                    path: gguf.path,
                    detail: "tensor \(name) has dimensions \(info.dimensions), expected [\(columns), \(rows)]")
            }
            if info.type.quantFormat != nil { return .quantized(try gguf.quantizedMatrix(info)) }
            return .dense(values: try gguf.floats(of: info), rows: rows, columns: columns)
        }
        func vector(_ name: String, count: Int) throws -> [Float] {
            guard let info = gguf.tensor(named: name) else {
                throw ModelFormatError.missing(path: gguf.path, detail: "tensor \(name) not found")
            }
            guard info.dimensions == [count] else {
                throw ModelFormatError.corrupt(
                    path: gguf.path, detail: "tensor \(name) has dimensions \(info.dimensions), expected [\(count)]")
            }
            return try gguf.floats(of: info)
        }
        let total = c.layers + 2
        tokenEmbedding = try matrix("token_embd.weight", rows: c.vocabularySize, columns: c.embedding)
        progress(1, total)
        var layers: [Layer] = []
        for index in 0..<c.layers {
            let p = "blk.\(index)."
            let kvWidth = c.kvHeads * c.headDim
            layers.append(
                Layer(
                    attentionNorm: try vector(p + "attn_norm.weight", count: c.embedding),
                    qkv: try .stacking([
                        try matrix(p + "attn_q.weight", rows: c.embedding, columns: c.embedding),
                        try matrix(p + "attn_k.weight", rows: kvWidth, columns: c.embedding),
                        try matrix(p + "attn_v.weight", rows: kvWidth, columns: c.embedding),
                    ]),
                    output: try matrix(p + "attn_output.weight", rows: c.embedding, columns: c.embedding),
                    ffnNorm: try vector(p + "ffn_norm.weight", count: c.embedding),
                    gateUp: try .stacking([
                        try matrix(p + "ffn_gate.weight", rows: c.feedForward, columns: c.embedding),
                        try matrix(p + "ffn_up.weight", rows: c.feedForward, columns: c.embedding),
                    ]),
                    down: try matrix(p + "ffn_down.weight", rows: c.embedding, columns: c.feedForward)))
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
