extension ChatTemplate {
    /// The chat template of a GGUF model (`tokenizer.chat_template`; plain when absent), with
    /// the BOS token's text for templates that write `bos_token`.
    public init(gguf: GGUFFile) throws(TokenizerError) {
        let bosText = gguf.int("tokenizer.ggml.bos_token_id").flatMap { id in
            gguf.strings("tokenizer.ggml.tokens").flatMap { $0.indices.contains(id) ? $0[id] : nil }
        }
        try self.init(source: gguf.string("tokenizer.chat_template"), bosToken: bosText ?? "")
    }
}
