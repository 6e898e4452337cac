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
        _ = try UnsupportedFields(from: decoder)
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
                    throw APIError.invalidRequest(
                        "content parts of type '\(other.type)' are not supported; only 'text'", param: "messages")
                }
                content = parts.compactMap(\.text).joined()
            } else {
                throw DecodingError.typeMismatch(
                    String.self,
                    .init(
                        codingPath: container.codingPath + [CodingKeys.content],
                        debugDescription: "expected a string or an array of content parts"))
            }
        }

        /// The engine's message (`developer` is OpenAI's newer name for `system`).
        var chatMessage: ChatMessage { ChatMessage(role: role == "developer" ? "system" : role, content: content) }
    }
}

/// What a chat choice carries: the whole reply (`message`)…
struct AssistantMessage: ChoicePayload {
    static let key = "message", object = "chat.completion"
    var role = "assistant"
    var content: String
}

/// …or, streamed, one piece of it (`delta`).
struct ChatDelta: ChoicePayload {
    static let key = "delta", object = "chat.completion.chunk"
    var role: String?
    var content: String?
}

/// A whole chat completion.
typealias ChatCompletionResponse = CompletionEnvelope<AssistantMessage>
/// One server-sent event of a streamed chat completion.
typealias ChatCompletionChunk = CompletionEnvelope<ChatDelta>

extension CompletionChoice where Payload == AssistantMessage {
    init(index: Int, message: AssistantMessage, finishReason: String?, logprobs: [LoggedToken]? = nil) {
        self.init(index: index, payload: message, finishReason: finishReason, logprobs: logprobs.map { .chat($0) })
    }
}

extension CompletionChoice where Payload == ChatDelta {
    init(index: Int, delta: ChatDelta, finishReason: String?, logprobs: [LoggedToken]? = nil) {
        self.init(index: index, payload: delta, finishReason: finishReason, logprobs: logprobs.map { .chat($0) })
    }
}
