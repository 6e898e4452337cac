import ClinferEngine

/// `"text"` or `["a", "b"]`: the shape OpenAI accepts for `stop` and for embedding and
/// completion inputs.
enum StringOrStrings: Decodable, Sendable, Equatable {
    case one(String)
    case many([String])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .one(text)
        } else if let texts = try? container.decode([String].self) {
            self = .many(texts)
        } else {
            throw DecodingError.typeMismatch(
                String.self,
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "expected a string or an array of strings"))
        }
    }

    var values: [String] {
        switch self {
        case .one(let text): [text]
        case .many(let texts): texts
        }
    }
}

/// `stream_options` of a streamed request.
struct StreamOptions: Decodable, Sendable {
    /// Send one more chunk before `[DONE]` with the request's token counts.
    var includeUsage: Bool?

    enum CodingKeys: String, CodingKey {
        case includeUsage = "include_usage"
    }
}

/// Token counts of a request, as OpenAI reports them.
struct Usage: Codable, Sendable, Equatable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int

    init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        totalTokens = promptTokens + completionTokens
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
    }
}

/// The sampling fields chat and text completions share (OpenAI's, plus the common `top_k`,
/// `min_p`, `repetition_penalty` and `ignore_eos` extensions of llama.cpp and vLLM).
struct SamplingFields: Decodable, Sendable {
    var temperature: Double?
    var topP: Double?
    var topK: Int?
    var minP: Double?
    var repetitionPenalty: Double?
    var presencePenalty: Double?
    var frequencyPenalty: Double?
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var stop: StringOrStrings?
    var seed: Int64?
    var n: Int?
    var logprobs: LogprobsField?
    var topLogprobs: Int?
    var responseFormat: ResponseFormatField?
    var bestOf: Int?
    /// Keep generating past end-of-sequence tokens (vLLM's and llama.cpp's extension; benchmarks).
    var ignoreEOS: Bool?

    enum CodingKeys: String, CodingKey {
        case temperature, stop, seed, n, logprobs
        case topP = "top_p"
        case topK = "top_k"
        case minP = "min_p"
        case repetitionPenalty = "repetition_penalty"
        case presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case bestOf = "best_of"
        case topLogprobs = "top_logprobs"
        case responseFormat = "response_format"
        case ignoreEOS = "ignore_eos"
    }
}

/// `logprobs`: a boolean for chat (alternatives in `top_logprobs`), a count of alternatives
/// for text completions.
enum LogprobsField: Decodable, Sendable {
    case flag(Bool)
    case count(Int)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = .flag(flag)
        } else if let count = try? container.decode(Int.self) {
            self = .count(count)
        } else {
            throw DecodingError.typeMismatch(
                Bool.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a boolean or an integer"))
        }
    }
}

/// `response_format`: `{"type": "text"}`, `{"type": "json_object"}`, or `{"type": "json_schema",
/// "json_schema": {"name", "schema", "strict"}}`.
struct ResponseFormatField: Decodable, Sendable {
    var type: String
    var jsonSchema: SchemaField?

    struct SchemaField: Decodable, Sendable {
        var name: String?
        var schema: JSONValue?
        var strict: Bool?
    }

    enum CodingKeys: String, CodingKey {
        case type
        case jsonSchema = "json_schema"
    }
}
