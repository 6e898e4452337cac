/// Generation could not run as asked.
public enum GenerationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The prompt has no tokens.
    case emptyPrompt
    /// The prompt plus the tokens to generate do not fit the context.
    case contextLengthExceeded(requested: Int, limit: Int)
    /// A token id outside the vocabulary.
    case invalidToken(Int, vocabularySize: Int)
    /// A sampling parameter is out of range.
    case invalidParameter(String)
    /// Every slot is busy and the wait queue is full; retry later.
    case queueFull(waiting: Int)
    /// Chat asked of a model whose file has no chat template (a base model).
    case noChatTemplate

    public var description: String {
        switch self {
        case .emptyPrompt: "the prompt is empty"
        case .contextLengthExceeded(let requested, let limit):
            "context length exceeded: \(requested) positions requested, the limit is \(limit)"
        case .invalidToken(let id, let size): "token id \(id) is outside the vocabulary (0..<\(size))"
        case .invalidParameter(let detail): "invalid generation parameter: \(detail)"
        case .queueFull(let waiting): "the server is busy: \(waiting) requests are already waiting for a slot"
        case .noChatTemplate:
            "the model has no chat template (no tokenizer.chat_template: a base model); use plain completion"
        }
    }
}
