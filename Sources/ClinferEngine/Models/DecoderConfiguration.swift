import ClinferOps
import Foundation

/// The hyper-parameters of a decoder-only transformer, read from GGUF metadata
/// (`<architecture>.block_count`, `.embedding_length`, ...) and completed by the architecture's
/// entry in ``Architectures``: what differs between families (RoPE pairing and bases, sliding
/// windows, biases, per-head norms, extra norms, the gate, the embedding scale) is data here, so
/// ``DecoderModel`` is one forward pass for every registered family.
public struct DecoderConfiguration: Sendable, Hashable, Codable {
    public var architecture: String
    public var layers: Int
    public var embedding: Int
    public var feedForward: Int
    public var heads: Int
    public var kvHeads: Int
    /// Head dimension (`attention.key_length`; embedding / heads when absent).
    public var headDim: Int
    public var contextLength: Int
    /// RoPE base of full-attention layers.
    public var ropeBase: Double
    /// Rotate (i, i + d/2) pairs (GPT-NeoX style) instead of adjacent pairs.
    public var ropeNeox: Bool
    public var normEps: Float
    public var vocabularySize: Int
    /// Per layer: its RoPE base and sliding window (nil: full causal attention).
    public var layerAttention: [LayerAttention]
    /// Multiplies Q·Kᵀ (1/√headDim unless the family says otherwise).
    public var attentionScale: Float
    /// The feed-forward's gate (SwiGLU or GeGLU).
    public var activation: GatedActivation
    /// Multiplies token embeddings before the first layer (Gemma: √embedding).
    public var embeddingScale: Float?
    /// Q, K and V projections have biases (Qwen2).
    public var qkvBias: Bool
    /// Q and K heads are RMS-normalised before RoPE (`attn_q_norm`, `attn_k_norm`: Gemma 3).
    public var headNorms: Bool
    /// Attention and feed-forward outputs are RMS-normalised before the residual add
    /// (`post_attention_norm`, `post_ffw_norm`: Gemma 3).
    public var postNorms: Bool

    /// One layer's attention: RoPE base and window.
    public struct LayerAttention: Sendable, Hashable, Codable {
        public var ropeBase: Double
        /// Keys a query sees at most, counting back from itself (nil: all before it).
        public var window: Int?
    }

    public init(gguf: GGUFFile) throws(ModelFormatError) {
        let arch = try gguf.requireString("general.architecture")
        guard let family = Architectures.registered[arch] else {
            throw .unsupported(
                path: gguf.path,
                detail:
                    "architecture \(arch) (supported: \(Architectures.registered.keys.sorted().joined(separator: ", ")))"
            )
        }
        architecture = arch
        layers = try gguf.requireInt("\(arch).block_count")
        embedding = try gguf.requireInt("\(arch).embedding_length")
        feedForward = try gguf.requireInt("\(arch).feed_forward_length")
        heads = try gguf.requireInt("\(arch).attention.head_count")
        kvHeads = gguf.int("\(arch).attention.head_count_kv") ?? heads
        contextLength = gguf.int("\(arch).context_length") ?? 2048
        ropeBase = Double(gguf.float("\(arch).rope.freq_base") ?? 10000)
        normEps = Float(try gguf.requireFloat("\(arch).attention.layer_norm_rms_epsilon"))
        vocabularySize = gguf.int("\(arch).vocab_size") ?? gguf.strings("tokenizer.ggml.tokens")?.count ?? 0
        headDim = gguf.int("\(arch).attention.key_length") ?? (heads > 0 ? embedding / heads : 0)
        ropeNeox = false
        layerAttention = []
        attentionScale = 0
        activation = .silu
        embeddingScale = nil
        qkvBias = false
        headNorms = false
        postNorms = false
        func fail(_ detail: String) -> ModelFormatError { .unsupported(path: gguf.path, detail: detail) }
        guard layers >= 1, layers <= 4096, embedding >= 1, feedForward >= 1, heads >= 1, kvHeads >= 1,
            contextLength >= 1, vocabularySize >= 1
        else {
            throw fail(
                "non-positive hyper-parameter (layers \(layers), embedding \(embedding), heads \(heads)/\(kvHeads), vocabulary \(vocabularySize))"
            )
        }
        guard heads % kvHeads == 0 else { throw fail("heads \(heads) is not a multiple of kv heads \(kvHeads)") }
        guard headDim % 8 == 0, headDim >= 8, headDim <= AttentionProblem.maxHeadDim else {
            throw fail("head dimension \(headDim) (the attention kernels serve multiples of 8 up to 256)")
        }
        if let valueDim = gguf.int("\(arch).attention.value_length"), valueDim != headDim {
            throw fail("value length \(valueDim) differs from key length \(headDim)")
        }
        if let ropeDims = gguf.int("\(arch).rope.dimension_count"), ropeDims != headDim {
            throw fail("partial RoPE (\(ropeDims) of \(headDim) dimensions)")
        }
        if let factor = gguf.float("\(arch).rope.scaling.factor"), factor != 1 {
            throw fail("RoPE scaling (factor \(factor))")
        }
        guard ropeBase > 1, normEps > 0 else { throw fail("RoPE base \(ropeBase), norm epsilon \(normEps)") }
        attentionScale = 1 / Float(headDim).squareRoot()
        layerAttention = Array(repeating: LayerAttention(ropeBase: ropeBase, window: nil), count: layers)
        try family.configure(&self, gguf)
    }

    /// Width of the fused QKV projection's output.
    public var qkvWidth: Int { (heads + 2 * kvHeads) * headDim }
    /// Width of the attention output (the output projection's input).
    public var attentionWidth: Int { heads * headDim }
}
