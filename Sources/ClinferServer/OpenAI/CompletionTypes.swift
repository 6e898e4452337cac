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
        _ = try UnsupportedFields(from: decoder)
    }

    /// A string, a list of strings, a list of token ids, or a list of token-id lists: one
    /// completion (one choice) per prompt.
    enum Prompt: Decodable, Sendable {
        case texts([String])
        case tokens([[Int]])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let texts = try? container.decode(StringOrStrings.self) {
                self = .texts(texts.values)
            } else if let tokens = try? container.decode([Int].self) {
                self = .tokens([tokens])
            } else if let lists = try? container.decode([[Int]].self) {
                self = .tokens(lists)
            } else {
                throw DecodingError.typeMismatch(
                    String.self,
                    .init(
                        codingPath: decoder.codingPath,
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

/// What a text completion's choice carries: its `text` (whole, or a streamed piece).
struct CompletionText: ChoicePayload {
    static let key = "text", object = "text_completion"
    var text: String

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// A whole text completion, or (with the same `object`) one streamed chunk.
typealias CompletionResponse = CompletionEnvelope<CompletionText>

extension CompletionChoice where Payload == CompletionText {
    init(index: Int, text: String, finishReason: String?, logprobs: [LoggedToken]? = nil) {
        self.init(
            index: index, payload: CompletionText(text: text), finishReason: finishReason,
            logprobs: logprobs.map { .completion($0) })
    }
}
