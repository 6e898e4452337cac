/// The body of `POST /v1/embeddings`.
struct EmbeddingRequest: Decodable, Sendable {
    var model: String?
    var input: Input
    var encodingFormat: String?
    var dimensions: Int?

    enum CodingKeys: String, CodingKey {
        case model, input, dimensions
        case encodingFormat = "encoding_format"
    }

    /// A string or a list of strings (token-id inputs are rejected: the tokenizer is the model's).
    enum Input: Decodable, Sendable {
        case texts([String])
        case tokens

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let texts = try? container.decode(StringOrStrings.self) {
                self = .texts(texts.values)
            } else if (try? container.decode([Int].self)) != nil || (try? container.decode([[Int]].self)) != nil {
                self = .tokens
            } else {
                throw DecodingError.typeMismatch(
                    String.self,
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription: "expected a string or an array of strings"))
            }
        }
    }
}

/// The embeddings of a request's inputs, in input order.
struct EmbeddingResponse: Encodable, Sendable {
    var object = "list"
    var data: [Item]
    var model: String
    var usage: EmbeddingUsage

    struct Item: Encodable, Sendable {
        var object = "embedding"
        var index: Int
        var embedding: Vector
    }

    /// Floats, or (`encoding_format: base64`) the little-endian float32 bytes in base64.
    enum Vector: Encodable, Sendable {
        case floats([Float])
        case base64(String)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .floats(let values): try container.encode(values)
            case .base64(let text): try container.encode(text)
            }
        }
    }

    struct EmbeddingUsage: Encodable, Sendable {
        var promptTokens: Int
        var totalTokens: Int

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case totalTokens = "total_tokens"
        }
    }
}
