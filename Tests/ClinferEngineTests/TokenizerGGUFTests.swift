import Testing

@testable import ClinferEngine

/// Reading the tokenizer and chat template from GGUF metadata (files built in memory).
@Suite("Tokenizer: GGUF metadata")
struct TokenizerGGUFTests {
    func file(
        model: String? = "gpt2", pre: String? = "smollm", addBOS: Bool? = nil, template: String? = nil,
        tokens: Bool = true
    ) throws -> GGUFFile {
        let vocab = TinyVocabulary(merges: ["a b"])
        var writer = GGUFWriter()
        if let model { writer.set("tokenizer.ggml.model", .string(model)) }
        if let pre { writer.set("tokenizer.ggml.pre", .string(pre)) }
        if tokens { writer.set("tokenizer.ggml.tokens", .array(.string(vocab.tokens))) }
        writer.set("tokenizer.ggml.merges", .array(.string(vocab.merges)))
        writer.set("tokenizer.ggml.token_type", .array(.int32(vocab.tokens.indices.map { $0 < 3 ? 3 : 1 })))
        writer.set("tokenizer.ggml.bos_token_id", .uint32(1))
        writer.set("tokenizer.ggml.eos_token_id", .uint32(2))
        if let addBOS { writer.set("tokenizer.ggml.add_bos_token", .bool(addBOS)) }
        if let template { writer.set("tokenizer.chat_template", .string(template)) }
        return try GGUFFile(bytes: writer.serialized(), name: "tiny.gguf")
    }

    @Test("a gpt2 vocabulary loads with its pre-tokenizer, BOS, EOS and types")
    func loads() throws {
        let tokenizer = try Tokenizer(gguf: file())
        #expect(tokenizer.preTokenizer == .smollm && tokenizer.preType == "smollm")
        #expect(tokenizer.bosID == 1 && tokenizer.eosID == 2 && !tokenizer.addBOS)
        #expect(
            tokenizer.encode("<|im_start|>ab1") == [
                1, TinyVocabulary.specials.count + 256, TinyVocabulary().byteID(0x31),
            ])
        #expect(try Tokenizer(gguf: file(addBOS: true)).addBOS)
    }

    @Test("without add_bos_token, only Llama-3 vocabularies add BOS")
    func defaultBOS() throws {
        #expect(try !Tokenizer(gguf: file(pre: "gpt2")).addBOS)
        #expect(try Tokenizer(gguf: file(pre: "llama-bpe")).addBOS)
        let unknown = try Tokenizer(gguf: file(pre: nil))
        #expect(unknown.preType == "default" && unknown.preTokenizer == .gpt2)
    }

    @Test("other tokenizer models and missing keys throw")
    func rejects() throws {
        // SentencePiece needs scores.
        #expect(throws: TokenizerError.missingMetadata("tokenizer.ggml.scores in tiny.gguf")) {
            try Tokenizer(gguf: file(model: "llama"))
        }
        let bert = try file(model: "bert")
        #expect(
            throws: TokenizerError.unsupported(
                "tokenizer model 'bert' in tiny.gguf; Clinfer reads 'gpt2' (byte-level BPE) and 'llama' (SentencePiece)"
            )
        ) {
            try Tokenizer(gguf: bert)
        }
        #expect(throws: TokenizerError.self) { try Tokenizer(gguf: file(model: nil)) }
        #expect(throws: TokenizerError.missingMetadata("tokenizer.ggml.tokens in tiny.gguf")) {
            try Tokenizer(gguf: file(tokens: false))
        }
    }

    @Test("the chat template comes from tokenizer.chat_template, plain when absent")
    func chatTemplate() throws {
        #expect(try ChatTemplate(gguf: file()).format == .plain)
        let chatML = try ChatTemplate(gguf: file(template: "{{'<|im_start|>' + message['role']}}"))
        #expect(chatML.format == .chatML(defaultSystemPrompt: nil))
        let llama = try ChatTemplate(gguf: file(template: "{{ bos_token }}<|start_header_id|>"))
        #expect(llama.format == .llama3(bosToken: "<|im_start|>"))
        #expect(throws: TokenizerError.self) { try ChatTemplate(gguf: file(template: "{{ messages }}")) }
    }
}
