import ClinferEngine
import Hummingbird

/// The body of `POST /v1/chat/completions`.
struct ChatCompletionRequest: Decodable, Sendable {
    var model: String?
    var messages: [Message]
    var stream: Bool?
    var streamOptions: StreamOptions?
    var sampling: SamplingFields

    enum CodingKeys: String, CodingKey {
        case model, messages, stream
        case streamOptions = "stream_options"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        messages = try container.decode([Message].self, forKey: .messages)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        sampling = try SamplingFields(from: decoder)
    }

    /// One turn: `content` is a string, an array of content parts (text parts are joined) or null.
    struct Message: Decodable, Sendable {
        var role: String
        var content: String

        enum CodingKeys: String, CodingKey { case role, content }

        struct Part: Decodable, Sendable {
            var type: String
            var text: String?
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            role = try container.decode(String.self, forKey: .role)
            if try !container.contains(.content) || container.decodeNil(forKey: .content) {
                content = ""
            } else if let text = try? container.decode(String.self, forKey: .content) {
                content = text
            } else if let parts = try? container.decode([Part].self, forKey: .content) {
                if let other = parts.first(where: { $0.type != "text" }) {
                    throw APIError.invalidRequest("content parts of type '\(other.type)' are not supported; only 'text'", param: "messages")
                }
                content = parts.compactMap(\.text).joined()
            } else {
                throw DecodingError.typeMismatch(String.self, .init(codingPath: container.codingPath + [CodingKeys.content],
                                                                   debugDescription: "expected a string or an array of content parts"))
            }
        }

        /// The engine's message (`developer` is OpenAI's newer name for `system`).
        var chatMessage: ChatMessage { ChatMessage(role: role == "developer" ? "system" : role, content: content) }
    }
}

/// A whole chat completion.
struct ChatCompletionResponse: Encodable, Sendable {
    var id: String
    var object = "chat.completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage

    struct Choice: Encodable, Sendable {
        var index: Int
        var message: ResponseMessage
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, message, logprobs
            case finishReason = "finish_reason"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(message, forKey: .message)
            try container.encodeNil(forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
    }

    struct ResponseMessage: Encodable, Sendable {
        var role = "assistant"
        var content: String
    }
}

/// One server-sent event of a streamed chat completion.
struct ChatCompletionChunk: Encodable, Sendable {
    var id: String
    var object = "chat.completion.chunk"
    var created: Int
    var model: String
    var choices: [Choice]
    /// Present (as null, or the counts on the last chunk) only when `include_usage` was asked for.
    var usage: Usage??

    struct Choice: Encodable, Sendable {
        var index: Int
        var delta: Delta
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, delta, logprobs
            case finishReason = "finish_reason"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(delta, forKey: .delta)
            try container.encodeNil(forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
    }

    struct Delta: Encodable, Sendable {
        var role: String?
        var content: String?
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
}

extension ChatCompletionChunk {
    /// Builds the server-sent events of one streamed response (same id, time and model each).
    struct Maker: Sendable {
        var id: String
        var created: Int
        var model: String
        /// Whether every chunk carries `usage` (null but on the last).
        var includeUsage: Bool

        func callAsFunction(_ choices: [Choice], usage: Usage? = nil) -> ByteBuffer {
            ServerSentEvents.event(ChatCompletionChunk(id: id, created: created, model: model, choices: choices, usage: includeUsage ? .some(usage) : nil))
        }
    }
}
