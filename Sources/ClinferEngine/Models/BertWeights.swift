/// The tensors of a BERT encoder from a safetensors checkpoint (Hugging Face `BertModel`
/// names, with or without the `bert.` prefix of task models), shaped for the forward pass:
/// Q, K and V stacked into one projection with one bias.
public struct BertWeights: Sendable {
    public struct Norm: Sendable {
        public let weight: [Float], bias: [Float]
    }

    public struct Layer: Sendable {
        /// [3·hidden, hidden] (Q, K, V rows) and its bias [3·hidden].
        public let qkv: LinearWeight, qkvBias: [Float]
        public let output: LinearWeight, outputBias: [Float]
        public let attentionNorm: Norm
        public let intermediate: LinearWeight, intermediateBias: [Float]
        public let down: LinearWeight, downBias: [Float]
        public let outputNorm: Norm
    }

    /// [vocabulary, hidden], [maxPositions, hidden] and [types, hidden], kept on the host: the
    /// embedding sum is gathered there.
    public let wordEmbeddings: [Float], positionEmbeddings: [Float], tokenTypeEmbeddings: [Float]
    public let embeddingNorm: Norm
    public let layers: [Layer]

    /// Reads every tensor the configuration needs, checking shapes.
    public init(safetensors file: SafetensorsFile, configuration c: BertConfiguration) throws(ModelFormatError) {
        let prefix =
            file.tensor(named: "embeddings.word_embeddings.weight") == nil
                && file.tensor(named: "bert.embeddings.word_embeddings.weight") != nil
            ? "bert." : ""
        func values(_ names: [String], shape: [Int]) throws(ModelFormatError) -> [Float] {
            guard let info = names.lazy.compactMap({ file.tensor(named: prefix + $0) }).first else {
                throw .missing(path: file.path, detail: "tensor \(prefix + names[0]) not found")
            }
            guard info.shape == shape else {
                throw .corrupt(
                    path: file.path, detail: "tensor \(info.name) has shape \(info.shape), expected \(shape)")
            }
            return try file.floats(of: info)
        }
        func matrix(_ name: String, rows: Int, columns: Int) throws(ModelFormatError) -> LinearWeight {
            .dense(values: try values([name], shape: [rows, columns]), rows: rows, columns: columns)
        }
        func norm(_ name: String) throws(ModelFormatError) -> Norm {
            Norm(
                weight: try values([name + ".weight", name + ".gamma"], shape: [c.hidden]),
                bias: try values([name + ".bias", name + ".beta"], shape: [c.hidden]))
        }
        let h = c.hidden
        wordEmbeddings = try values(["embeddings.word_embeddings.weight"], shape: [c.vocabularySize, h])
        positionEmbeddings = try values(["embeddings.position_embeddings.weight"], shape: [c.maxPositions, h])
        tokenTypeEmbeddings = try values(["embeddings.token_type_embeddings.weight"], shape: [c.typeVocabularySize, h])
        embeddingNorm = try norm("embeddings.LayerNorm")
        var layers: [Layer] = []
        for index in 0..<c.layers {
            let p = "encoder.layer.\(index)."
            let q = try matrix(p + "attention.self.query.weight", rows: h, columns: h)
            let k = try matrix(p + "attention.self.key.weight", rows: h, columns: h)
            let v = try matrix(p + "attention.self.value.weight", rows: h, columns: h)
            layers.append(
                Layer(
                    qkv: .dense(values: q.dequantized() + k.dequantized() + v.dequantized(), rows: 3 * h, columns: h),
                    qkvBias: try values([p + "attention.self.query.bias"], shape: [h])
                        + values([p + "attention.self.key.bias"], shape: [h])
                        + values([p + "attention.self.value.bias"], shape: [h]),
                    output: try matrix(p + "attention.output.dense.weight", rows: h, columns: h),
                    outputBias: try values([p + "attention.output.dense.bias"], shape: [h]),
                    attentionNorm: try norm(p + "attention.output.LayerNorm"),
                    intermediate: try matrix(p + "intermediate.dense.weight", rows: c.intermediate, columns: h),
                    intermediateBias: try values([p + "intermediate.dense.bias"], shape: [c.intermediate]),
                    down: try matrix(p + "output.dense.weight", rows: h, columns: c.intermediate),
                    downBias: try values([p + "output.dense.bias"], shape: [h]),
                    outputNorm: try norm(p + "output.LayerNorm")))
        }
        self.layers = layers
    }
}
