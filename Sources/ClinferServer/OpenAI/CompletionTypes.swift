import Hummingbird

/// The body of `POST /v1/completions`.
struct CompletionRequest: Decodable, Sendable {
    var model: String?
    var prompt: Prompt
    var stream: Bool?
    var streamOptions: StreamOptions?
    var echo: Bool?
    var suffix: String?
    var sampling: SamplingFields

    enum CodingKeys: String, CodingKey {
        case model, prompt, stream, echo, suffix
        case streamOptions = "stream_options"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        prompt = try container.decode(Prompt.self, forKey: .prompt)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        echo = try container.decodeIfPresent(Bool.self, forKey: .echo)
        suffix = try container.decodeIfPresent(String.self, forKey: .suffix)
        sampling = try SamplingFields(from: decoder)
    }

    /// A string, a list of strings, a list of token ids, or a list of token-id lists: one
    /// completion (one choice) per prompt.
    enum Prompt: Decodable, Sendable {
        case texts([String])
        case tokens([[Int]])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .texts([text])
            } else if let texts = try? container.decode([String].self) {
                self = .texts(texts)
            } else if let tokens = try? container.decode([Int].self) {
                self = .tokens([tokens])
            } else if let lists = try? container.decode([[Int]].self) {
                self = .tokens(lists)
            } else {
                throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                                                                    debugDescription: "expected a string, an array of strings, or token ids"))
            }
        }

        var count: Int {
            switch self {
            case .texts(let texts): texts.count
            case .tokens(let lists): lists.count
            }
        }
    }
}

/// A whole text completion, or (with `object` "text_completion" too) one streamed chunk.
struct CompletionResponse: Encodable, Sendable {
    var id: String
    var object = "text_completion"
    var created: Int
    var model: String
    var choices: [Choice]
    /// Always set on whole responses; on chunks only when `include_usage` was asked for.
    var usage: Usage??

    struct Choice: Encodable, Sendable {
        var index: Int
        var text: String
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, text, logprobs
            case finishReason = "finish_reason"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(text, forKey: .text)
            try container.encodeNil(forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
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

extension CompletionResponse {
    /// Builds the server-sent events of one streamed response (same id, time and model each).
    struct ChunkMaker: Sendable {
        var id: String
        var created: Int
        var model: String
        /// Whether every chunk carries `usage` (null but on the last).
        var includeUsage: Bool

        func callAsFunction(_ choices: [Choice], usage: Usage? = nil) -> ByteBuffer {
            ServerSentEvents.event(CompletionResponse(id: id, created: created, model: model, choices: choices, usage: includeUsage ? .some(usage) : nil))
        }
    }
}
