/// The hyper-parameters of a Llama-family decoder, read from GGUF metadata
/// (`<architecture>.block_count`, `.embedding_length`, ...).
public struct LlamaConfiguration: Sendable, Hashable, Codable {
    public var architecture: String
    public var layers: Int
    public var embedding: Int
    public var feedForward: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var contextLength: Int
    public var ropeBase: Double
    /// Rotate (i, i + d/2) pairs (GPT-NeoX style) instead of adjacent pairs.
    public var ropeNeox: Bool
    public var normEps: Float
    public var vocabularySize: Int

    /// Architectures whose GGUF layout this decoder implements, with their RoPE style.
    static let supported: [String: Bool] = ["llama": false, "mistral": false, "qwen2": true]

    public init(gguf: GGUFFile) throws(ModelFormatError) {
        let arch = try gguf.requireString("general.architecture")
        guard let neox = Self.supported[arch] else {
            throw .unsupported(
                path: gguf.path,
                detail: "architecture \(arch) (supported: \(Self.supported.keys.sorted().joined(separator: ", ")))")
        }
        architecture = arch
        ropeNeox = neox
        layers = try gguf.requireInt("\(arch).block_count")
        embedding = try gguf.requireInt("\(arch).embedding_length")
        feedForward = try gguf.requireInt("\(arch).feed_forward_length")
        heads = try gguf.requireInt("\(arch).attention.head_count")
        kvHeads = gguf.int("\(arch).attention.head_count_kv") ?? heads
        contextLength = gguf.int("\(arch).context_length") ?? 2048
        ropeBase = Double(gguf.float("\(arch).rope.freq_base") ?? 10000)
        normEps = Float(try gguf.requireFloat("\(arch).attention.layer_norm_rms_epsilon"))
        vocabularySize = gguf.int("\(arch).vocab_size") ?? gguf.strings("tokenizer.ggml.tokens")?.count ?? 0
        headDim = heads > 0 ? embedding / heads : 0
        func fail(_ detail: String) -> ModelFormatError { .unsupported(path: gguf.path, detail: detail) }
        guard layers >= 1, embedding >= 1, feedForward >= 1, heads >= 1, kvHeads >= 1, contextLength >= 1,
            vocabularySize >= 1
        else {
            throw fail(
                "non-positive hyper-parameter (layers \(layers), embedding \(embedding), heads \(heads)/\(kvHeads), vocabulary \(vocabularySize))"
            )
        }
        guard embedding % heads == 0, heads % kvHeads == 0 else {
            throw fail("embedding \(embedding), heads \(heads), kv heads \(kvHeads) do not divide")
        }
        guard headDim % 8 == 0, headDim <= 256 else {
            throw fail("head dimension \(headDim) (the attention kernels serve multiples of 8 up to 256)")
        }
        if let ropeDims = gguf.int("\(arch).rope.dimension_count"), ropeDims != headDim {
            throw fail("partial RoPE (\(ropeDims) of \(headDim) dimensions)")
        }
        guard ropeBase > 1, normEps > 0 else { throw fail("RoPE base \(ropeBase), norm epsilon \(normEps)") }
    }

    /// Width of the fused QKV projection's output.
    public var qkvWidth: Int { (heads + 2 * kvHeads) * headDim }
}
