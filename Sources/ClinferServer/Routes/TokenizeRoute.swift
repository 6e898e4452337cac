import ClinferEngine
import Hummingbird

/// `POST /tokenize`, `POST /detokenize` and `GET /tokenizer_info`, for clients that budget tokens
/// or inspect how a text splits (and evaluation harnesses that tokenize through the server, as
/// lm-evaluation-harness's `tokenizer_backend=remote` does): the served language model's
/// tokenizer, no generation. Requests and replies carry both llama-server's field names
/// (`content`, `add_special`) and vLLM's (`prompt`, `add_special_tokens`).
struct TokenizeRoute: Sendable {
    let state: ServerState
    /// The most ids one `/detokenize` takes (the body limit bounds `/tokenize`).
    static let maxTokens = 1 << 20

    struct TokenizeRequest: Decodable {
        var model: String?
        var content: String
        /// Add the model's BOS token where its tokenizer does (default false, as llama-server).
        var addSpecial: Bool?
        /// Return `{id, piece}` objects instead of bare ids.
        var withPieces: Bool?

        enum CodingKeys: String, CodingKey {
            case model, content, prompt
            case addSpecial = "add_special"
            case addSpecialTokens = "add_special_tokens"
            case withPieces = "with_pieces"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            model = try container.decodeIfPresent(String.self, forKey: .model)
            if container.contains(.content) || !container.contains(.prompt) {
                content = try container.decode(String.self, forKey: .content)
            } else {
                content = try container.decode(String.self, forKey: .prompt)
            }
            addSpecial =
                try container.decodeIfPresent(Bool.self, forKey: .addSpecial)
                ?? container.decodeIfPresent(Bool.self, forKey: .addSpecialTokens)
            withPieces = try container.decodeIfPresent(Bool.self, forKey: .withPieces)
        }
    }

    /// `{"tokens", "count", "max_model_len"}`.
    struct Tokens<Token: Encodable>: Encodable {
        var tokens: [Token]
        var count: Int
        var maxModelLength: Int

        enum CodingKeys: String, CodingKey {
            case tokens, count
            case maxModelLength = "max_model_len"
        }
    }

    struct DetokenizeRequest: Decodable {
        var model: String?
        var tokens: [Int]
    }

    /// One id with its text (`piece`: a string, or the byte values where the token alone is not
    /// valid UTF-8, as llama-server writes it).
    struct Piece: Encodable {
        var id: Int
        var piece: PieceText

        enum PieceText: Encodable {
            case text(String)
            case bytes([UInt8])

            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .text(let text): try container.encode(text)
                case .bytes(let bytes): try container.encode(bytes)
                }
            }
        }
    }

    func tokenize(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let (served, _) = try state.languageModel(nil)
        let body = try await JSONBody.decode(TokenizeRequest.self, from: request)
        _ = try state.languageModel(body.model)
        let tokenizer = served.language.tokenizer
        let ids = tokenizer.encode(body.content, addSpecialPrefix: body.addSpecial ?? false)
        let context = served.language.contextLength
        guard body.withPieces == true else {
            return JSONBody.response(Tokens(tokens: ids, count: ids.count, maxModelLength: context))
        }
        let pieces = try ids.map { id in
            let bytes = try tokenizer.bytes(of: id)
            return Piece(id: id, piece: String(validating: bytes, as: UTF8.self).map { .text($0) } ?? .bytes(bytes))
        }
        return JSONBody.response(Tokens(tokens: pieces, count: ids.count, maxModelLength: context))
    }

    func detokenize(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let (served, _) = try state.languageModel(nil)
        let body = try await JSONBody.decode(DetokenizeRequest.self, from: request)
        _ = try state.languageModel(body.model)
        let tokenizer = served.language.tokenizer
        guard body.tokens.count <= Self.maxTokens else {
            throw APIError.invalidRequest(
                "Invalid 'tokens': at most \(Self.maxTokens) ids, got \(body.tokens.count).", param: "tokens",
                code: "invalid_value")
        }
        if let bad = body.tokens.first(where: { !(0..<tokenizer.vocabularySize).contains($0) }) {
            throw APIError.invalidRequest(
                "Invalid 'tokens': token id \(bad) is outside the vocabulary (0..<\(tokenizer.vocabularySize)).",
                param: "tokens", code: "invalid_token")
        }
        let text = try tokenizer.decode(body.tokens)
        return JSONBody.response(["content": text, "prompt": text])
    }

    /// The tokenizer's special tokens and chat template (vLLM's `/tokenizer_info`).
    func info(_ request: Request) throws -> Response {
        let (served, _) = try state.languageModel(nil)
        let model = served.language, tokenizer = model.tokenizer
        func text(_ id: Int?) -> String? { id.flatMap { try? tokenizer.decode([$0]) } }
        return JSONBody.response(
            TokenizerInfo(
                bosToken: text(tokenizer.bosID), eosToken: text(tokenizer.eosID), padToken: nil,
                chatTemplate: model.chatTemplate.source, modelMaxLength: model.contextLength,
                vocabularySize: tokenizer.vocabularySize, addBOSToken: tokenizer.addBOS))
    }

    struct TokenizerInfo: Encodable {
        var bosToken: String?
        var eosToken: String?
        var padToken: String?
        var chatTemplate: String?
        var modelMaxLength: Int
        var vocabularySize: Int
        var addBOSToken: Bool

        enum CodingKeys: String, CodingKey {
            case bosToken = "bos_token"
            case eosToken = "eos_token"
            case padToken = "pad_token"
            case chatTemplate = "chat_template"
            case modelMaxLength = "model_max_length"
            case vocabularySize = "vocab_size"
            case addBOSToken = "add_bos_token"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(bosToken, forKey: .bosToken)
            try container.encode(eosToken, forKey: .eosToken)
            try container.encode(padToken, forKey: .padToken)
            try container.encode(chatTemplate, forKey: .chatTemplate)
            try container.encode(modelMaxLength, forKey: .modelMaxLength)
            try container.encode(vocabularySize, forKey: .vocabularySize)
            try container.encode(addBOSToken, forKey: .addBOSToken)
        }
    }
}
