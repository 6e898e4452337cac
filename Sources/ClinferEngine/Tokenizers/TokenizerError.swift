/// A tokenizer or chat template could not be built or used. Every case says what is wrong in
/// words a user can act on (which id, which metadata key, which template).
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The vocabulary is inconsistent: counts disagree, a merge is malformed, an id is out of range.
    case invalidVocabulary(String)
    /// The model asks for something this tokenizer does not implement (e.g. a tokenizer model
    /// other than GPT-2 byte-level BPE).
    case unsupported(String)
    /// A metadata key the tokenizer needs is absent or has the wrong type.
    case missingMetadata(String)
    /// A token id outside the vocabulary was given to decode.
    case unknownToken(Int)
    /// The chat template is not a family Clinfer can render; carries its first 80 characters.
    case unsupportedChatTemplate(String)

    public var description: String {
        switch self {
        case .invalidVocabulary(let detail): "invalid tokenizer vocabulary: \(detail)"
        case .unsupported(let detail): "unsupported: \(detail)"
        case .missingMetadata(let key): "tokenizer metadata missing or mistyped: \(key)"
        case .unknownToken(let id): "token id \(id) is not in the vocabulary"
        case .unsupportedChatTemplate(let head): "unsupported chat template (recognised: ChatML, Llama-3): \(head)"
        }
    }
}
