/// The plain values a byte-level BPE tokenizer is built from, as a GGUF file (or a test) gives
/// them. Keeping them separate from the file format lets tests build tiny vocabularies by hand.
public struct BPEVocabulary: Sendable, Equatable {
    /// Token texts in the byte-level alphabet (`Ġthe`), indexed by token id.
    public var tokens: [String]
    /// Merge rules `"left right"`, highest priority first.
    public var merges: [String]
    /// Per-token types (`TokenType` raw values); empty means every token is normal.
    public var tokenTypes: [Int]
    /// The pre-tokenizer name (`gpt2`, `smollm`, `llama-bpe`, ...; GGUF `tokenizer.ggml.pre`).
    public var preType: String
    /// Beginning-of-sequence token, if the model has one.
    public var bosID: Int?
    /// End-of-sequence token, if the model has one.
    public var eosID: Int?
    /// Whether `encode` prepends BOS by default.
    public var addBOS: Bool

    public init(
        tokens: [String], merges: [String], tokenTypes: [Int] = [], preType: String = "gpt2",
        bosID: Int? = nil, eosID: Int? = nil, addBOS: Bool = false
    ) {
        self.tokens = tokens
        self.merges = merges
        self.tokenTypes = tokenTypes
        self.preType = preType
        self.bosID = bosID
        self.eosID = eosID
        self.addBOS = addBOS
    }
}

/// What a vocabulary entry is (llama.cpp's `llama_token_type`, stored in GGUF
/// `tokenizer.ggml.token_type`). Control, user-defined and unknown tokens are *special*: they
/// are matched whole in the input text rather than built by merges.
public enum TokenType: Int, Sendable, CaseIterable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    case control = 3
    case userDefined = 4
    case unused = 5
    case byte = 6

    /// Matched whole in raw text before BPE (control and unknown tokens only when special
    /// parsing is on; user-defined tokens always, as in llama.cpp and Hugging Face tokenizers).
    /// These also decode to their raw text rather than through the byte mapping.
    var isSpecial: Bool { self == .control || self == .userDefined || self == .unknown }
}
