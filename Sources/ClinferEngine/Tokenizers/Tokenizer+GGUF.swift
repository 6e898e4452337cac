extension TokenizerVocabulary {
    /// The vocabulary of a GGUF model (`tokenizer.ggml.*` keys).
    ///
    /// `tokenizer.ggml.model` `gpt2` is byte-level BPE (merges required), `llama` SentencePiece
    /// (scores required); any other model throws `unsupported` naming it, and absent tokens,
    /// merges or scores throw `missingMetadata`. Without `add_bos_token`, BPE adds BOS for Llama-3
    /// pre-tokenizers only and SentencePiece always, as llama.cpp does.
    public init(gguf: GGUFFile) throws(TokenizerError) {
        let model = gguf.string("tokenizer.ggml.model")
        guard let kind = model.flatMap(Model.init(rawValue:)) else {
            throw .unsupported(
                "tokenizer model \(model.map { "'\($0)'" } ?? "(none)") in \(gguf.path); Clinfer reads 'gpt2' (byte-level BPE) and 'llama' (SentencePiece)"
            )
        }
        guard let tokens = gguf.strings("tokenizer.ggml.tokens") else {
            throw .missingMetadata("tokenizer.ggml.tokens in \(gguf.path)")
        }
        let types = gguf.ints("tokenizer.ggml.token_type")
        if types == nil && gguf.metadata["tokenizer.ggml.token_type"] != nil {
            throw .missingMetadata("tokenizer.ggml.token_type in \(gguf.path) is not an integer array")
        }
        let (bos, eos) = (gguf.int("tokenizer.ggml.bos_token_id"), gguf.int("tokenizer.ggml.eos_token_id"))
        switch kind {
        case .byteLevelBPE:
            guard let merges = gguf.strings("tokenizer.ggml.merges") else {
                throw .missingMetadata("tokenizer.ggml.merges in \(gguf.path)")
            }
            let preType = gguf.string("tokenizer.ggml.pre") ?? "default"
            self.init(
                tokens: tokens, merges: merges, tokenTypes: types ?? [], preType: preType, bosID: bos, eosID: eos,
                addBOS: gguf.bool("tokenizer.ggml.add_bos_token") ?? (PreTokenizer(preType: preType) == .llama3))
        case .sentencePiece:
            guard let scores = gguf.floats("tokenizer.ggml.scores") else {
                throw .missingMetadata("tokenizer.ggml.scores in \(gguf.path)")
            }
            self.init(
                sentencePieces: tokens, scores: scores, tokenTypes: types ?? [], bosID: bos, eosID: eos,
                unknownID: gguf.int("tokenizer.ggml.unknown_token_id"),
                addBOS: gguf.bool("tokenizer.ggml.add_bos_token") ?? true,
                addSpacePrefix: gguf.bool("tokenizer.ggml.add_space_prefix") ?? true)
        }
    }
}

extension Tokenizer {
    /// The tokenizer of a GGUF model; see `TokenizerVocabulary.init(gguf:)`.
    public convenience init(gguf: GGUFFile) throws(TokenizerError) {
        try self.init(vocabulary: TokenizerVocabulary(gguf: gguf))
    }
}
