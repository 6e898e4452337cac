extension BPEVocabulary {
    /// The vocabulary of a GGUF model (`tokenizer.ggml.*` keys).
    ///
    /// Throws `unsupported` when `tokenizer.ggml.model` is not `gpt2` (byte-level BPE) and
    /// `missingMetadata` when tokens or merges are absent. Without `add_bos_token`, BOS is added
    /// for Llama-3 pre-tokenizers only, as llama.cpp does.
    public init(gguf: GGUFFile) throws(TokenizerError) {
        let model = gguf.string("tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw .unsupported(
                "tokenizer model \(model.map { "'\($0)'" } ?? "(none)") in \(gguf.path); Clinfer reads only 'gpt2' (byte-level BPE)"
            )
        }
        guard let tokens = gguf.strings("tokenizer.ggml.tokens") else {
            throw .missingMetadata("tokenizer.ggml.tokens in \(gguf.path)")
        }
        guard let merges = gguf.strings("tokenizer.ggml.merges") else {
            throw .missingMetadata("tokenizer.ggml.merges in \(gguf.path)")
        }
        let types = gguf.ints("tokenizer.ggml.token_type")
        if types == nil && gguf.metadata["tokenizer.ggml.token_type"] != nil {
            throw .missingMetadata("tokenizer.ggml.token_type in \(gguf.path) is not an integer array")
        }
        let preType = gguf.string("tokenizer.ggml.pre") ?? "default"
        self.init(
            tokens: tokens, merges: merges,
            tokenTypes: types ?? [],
            preType: preType,
            bosID: gguf.int("tokenizer.ggml.bos_token_id"),
            eosID: gguf.int("tokenizer.ggml.eos_token_id"),
            addBOS: gguf.bool("tokenizer.ggml.add_bos_token") ?? (PreTokenizer(preType: preType) == .llama3))
    }
}

extension BPETokenizer {
    /// The tokenizer of a GGUF model; see `BPEVocabulary.init(gguf:)`.
    public convenience init(gguf: GGUFFile) throws(TokenizerError) {
        try self.init(vocabulary: BPEVocabulary(gguf: gguf))
    }
}
