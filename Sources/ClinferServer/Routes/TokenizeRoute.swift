import ClinferEngine
import Hummingbird

/// `POST /tokenize` and `POST /detokenize` in llama-server's shape, for clients that budget
/// tokens or inspect how a text splits: the served language model's tokenizer, no generation.
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
            case model, content
            case addSpecial = "add_special"
            case withPieces = "with_pieces"
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
        guard body.withPieces == true else { return JSONBody.response(["tokens": ids]) }
        let pieces = try ids.map { id in
            let bytes = try tokenizer.bytes(of: id)
            return Piece(id: id, piece: String(validating: bytes, as: UTF8.self).map { .text($0) } ?? .bytes(bytes))
        }
        return JSONBody.response(["tokens": pieces])
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
        return JSONBody.response(["content": try tokenizer.decode(body.tokens)])
    }
}
