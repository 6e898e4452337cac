import Hummingbird

/// What a choice carries under its own key: the assistant message, a stream delta, or text.
protocol ChoicePayload: Encodable, Sendable {
    /// The choice's key for the payload ("message", "delta", "text").
    static var key: String { get }
    /// The envelope's `object` ("chat.completion", "chat.completion.chunk", "text_completion").
    static var object: String { get }
}

/// One element of `choices`: its index, the payload, `logprobs` (null unless requested) and
/// `finish_reason` (null until a choice's last chunk).
struct CompletionChoice<Payload: ChoicePayload>: Encodable, Sendable {
    var index: Int
    var payload: Payload
    var finishReason: String?
    var logprobs: ChoiceLogprobs?

    init(index: Int, payload: Payload, finishReason: String?, logprobs: ChoiceLogprobs? = nil) {
        self.index = index
        self.payload = payload
        self.finishReason = finishReason
        self.logprobs = logprobs
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.init(stringValue) }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(index, forKey: Key("index"))
        try container.encode(payload, forKey: Key(Payload.key))
        try container.encode(logprobs, forKey: Key("logprobs"))
        try container.encode(finishReason, forKey: Key("finish_reason"))
    }
}

/// What every completion body and streamed chunk shares: id, object, created, model, the
/// choices, and `usage` (left out when nil: a chunk of a stream without include_usage; null on a
/// chunk before the last with it).
struct CompletionEnvelope<Payload: ChoicePayload>: Encodable, Sendable {
    typealias Choice = CompletionChoice<Payload>

    var id: String
    var object = Payload.object
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage??

    init(id: String, created: Int, model: String, choices: [Choice], usage: Usage??) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }

    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(object, forKey: .object)
        try container.encode(created, forKey: .created)
        try container.encode(model, forKey: .model)
        try container.encode(choices, forKey: .choices)
        if let usage { try container.encode(usage, forKey: .usage) }
    }

    /// Builds the server-sent events of one streamed response (same id, time and model each).
    struct ChunkMaker: Sendable {
        var id: String
        var created: Int
        var model: String
        /// Whether every chunk carries `usage` (null but on the last).
        var includeUsage: Bool

        func callAsFunction(_ choices: [Choice], usage: Usage? = nil) -> ByteBuffer {
            ServerSentEvents.event(
                CompletionEnvelope(
                    id: id, created: created, model: model, choices: choices, usage: includeUsage ? .some(usage) : nil))
        }
    }
}
