import ClinferOps
import Foundation

/// The shape of a BERT encoder, read from a Hugging Face `config.json` (`model_type` "bert").
///
/// Clinfer runs absolute position embeddings and the exact (erf) GELU that `hidden_act: "gelu"`
/// names; anything else (tanh-approximate GELU, ReLU, relative positions, another model type)
/// is `ModelFormatError.unsupported`, as is a head dimension the attention kernel does not serve.
public struct BertConfiguration: Sendable, Hashable {
    public var vocabularySize: Int
    /// Width of the hidden states (the embedding dimension).
    public var hidden: Int
    public var layers: Int
    public var heads: Int
    /// Width of the feed-forward layer.
    public var intermediate: Int
    /// Positions the position-embedding table holds (the longest input).
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEps: Float

    public init(
        vocabularySize: Int, hidden: Int, layers: Int, heads: Int, intermediate: Int, maxPositions: Int,
        typeVocabularySize: Int = 2, layerNormEps: Float = 1e-12
    ) {
        self.vocabularySize = vocabularySize
        self.hidden = hidden
        self.layers = layers
        self.heads = heads
        self.intermediate = intermediate
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEps = layerNormEps
    }

    public var headDim: Int { hidden / max(1, heads) }

    /// Parses and checks `config.json`'s contents; `path` names the file in errors.
    public init(json data: Data, path: String = "config.json") throws(ModelFormatError) {
        let object = try modelJSONObject(data, path: path)
        func integer(_ key: String, default value: Int? = nil) throws(ModelFormatError) -> Int {
            if let number = object[key] as? Int { return number }
            if let value { return value }
            throw .missing(path: path, detail: "\(key) is missing or not an integer")
        }
        if let type = object["model_type"] as? String, type != "bert" {
            throw .unsupported(path: path, detail: "model_type \(type) (Clinfer's encoder runs BERT models)")
        }
        let activation = object["hidden_act"] as? String ?? "gelu"
        guard activation == "gelu" else {
            throw .unsupported(path: path, detail: "hidden_act \(activation) (the exact erf GELU, \"gelu\", only)")
        }
        if let positions = object["position_embedding_type"] as? String, positions != "absolute" {
            throw .unsupported(path: path, detail: "position_embedding_type \(positions) (absolute only)")
        }
        let eps = (object["layer_norm_eps"] as? Double) ?? 1e-12
        self.init(
            vocabularySize: try integer("vocab_size"), hidden: try integer("hidden_size"),
            layers: try integer("num_hidden_layers"),
            heads: try integer("num_attention_heads"), intermediate: try integer("intermediate_size"),
            maxPositions: try integer("max_position_embeddings", default: 512),
            typeVocabularySize: try integer("type_vocab_size", default: 2),
            layerNormEps: Float(eps))
        try validate(path: path)
    }

    /// Throws `ModelFormatError` for sizes Clinfer cannot run.
    public func validate(path: String) throws(ModelFormatError) {
        guard vocabularySize >= 1, hidden >= 1, layers >= 1, heads >= 1, intermediate >= 1, maxPositions >= 2,
            typeVocabularySize >= 1
        else {
            throw .corrupt(path: path, detail: "every size must be positive (and max_position_embeddings ≥ 2)")
        }
        guard hidden % heads == 0 else {
            throw .corrupt(
                path: path, detail: "hidden_size \(hidden) is not a multiple of num_attention_heads \(heads)")
        }
        guard headDim % 8 == 0, headDim <= AttentionProblem.maxHeadDim else {
            throw .unsupported(
                path: path, detail: "head dimension \(headDim) (multiples of 8 up to \(AttentionProblem.maxHeadDim))")
        }
        guard layerNormEps >= 0, layerNormEps.isFinite else {
            throw .corrupt(path: path, detail: "layer_norm_eps \(layerNormEps)")
        }
    }
}
