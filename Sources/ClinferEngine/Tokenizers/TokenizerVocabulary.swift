/// The plain values a tokenizer is built from, as a GGUF file (or a test) gives them. Keeping
/// them separate from the file format lets tests build tiny vocabularies by hand.
public struct TokenizerVocabulary: Sendable, Equatable {
    /// How text becomes pieces (GGUF `tokenizer.ggml.model`).
    public enum Model: String, Sendable, Equatable {
        /// GPT-2 style byte-level BPE with merge rules (`gpt2`: SmolLM2, Llama 3, Qwen2).
        case byteLevelBPE = "gpt2"
        /// SentencePiece BPE over scored pieces with byte-fallback tokens (`llama`: Gemma, Llama 2).
        case sentencePiece = "llama"
    }

    /// The tokenization model.
    public var model: Model
    /// Token texts, indexed by token id: in the byte-level alphabet (`Ġthe`) for BPE, with `▁`
    /// for spaces for SentencePiece.
    public var tokens: [String]
    /// BPE merge rules `"left right"`, highest priority first (empty for SentencePiece).
    public var merges: [String]
    /// SentencePiece piece scores (higher merges first), one per token; empty for BPE.
    public var scores: [Float]
    /// Per-token types (`TokenType` raw values); empty means every token is normal.
    public var tokenTypes: [Int]
    /// The pre-tokenizer name (`gpt2`, `smollm`, `llama-bpe`, ...; GGUF `tokenizer.ggml.pre`).
    public var preType: String
    /// Beginning-of-sequence token, if the model has one.
    public var bosID: Int?
    /// End-of-sequence token, if the model has one.
    public var eosID: Int?
    /// Unknown token, used by SentencePiece for a byte with no byte token.
    public var unknownID: Int?
    /// Whether `encode` prepends BOS by default.
    public var addBOS: Bool
    /// SentencePiece: prefix each text run that starts the input or follows a special token
    /// with a space (GGUF `tokenizer.ggml.add_space_prefix`; Llama 2 yes, Gemma no).
    public var addSpacePrefix: Bool

    public init(
        tokens: [String], merges: [String], tokenTypes: [Int] = [], preType: String = "gpt2",
        bosID: Int? = nil, eosID: Int? = nil, addBOS: Bool = false
    ) {
        self.model = .byteLevelBPE
        self.tokens = tokens
        self.merges = merges
        self.scores = []
        self.tokenTypes = tokenTypes
        self.preType = preType
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = nil
        self.addBOS = addBOS
        self.addSpacePrefix = false
    }

    /// A SentencePiece vocabulary: pieces with their scores and types.
    public init(
        sentencePieces tokens: [String], scores: [Float], tokenTypes: [Int] = [], bosID: Int? = nil,
        eosID: Int? = nil, unknownID: Int? = nil, addBOS: Bool = true, addSpacePrefix: Bool = true
    ) {
        self.init(
            tokens: tokens, merges: [], tokenTypes: tokenTypes, preType: "default", bosID: bosID, eosID: eosID,
            addBOS: addBOS)
        self.model = .sentencePiece
        self.scores = scores
        self.unknownID = unknownID
        self.addSpacePrefix = addSpacePrefix
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
