import ClinferEngine
import Foundation
import Hummingbird

/// `POST /v1/embeddings`: one vector per input text, as floats or base64 (little-endian float32).
struct EmbeddingsRoute: Sendable {
    let state: ServerState
    /// Inputs per request at most (OpenAI's limit).
    static let maxInputs = 2048
    /// Tokens per request at most, over all inputs (each input is truncated to the model's
    /// length, 256 for all-MiniLM-L6-v2).
    static let maxTotalTokens = 65_536

    func handle(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let served = try state.models.models()
        let body = try await JSONBody.decode(EmbeddingRequest.self, from: request)
        guard let embedder = served.embedding, let modelID = served.embeddingID else {
            throw APIError.invalidRequest(
                "This server has no embedding model (start it with --embedding-model DIR).", param: "model",
                code: "model_not_found")
        }
        if let requested = body.model, requested != modelID {
            if requested == served.languageID {
                throw APIError.invalidRequest(
                    "'\(requested)' is a generation model; embed with '\(modelID)'.", param: "model",
                    code: "model_not_supported")
            }
            throw APIError.unknownModel(requested, served: served.ids)
        }
        guard case .texts(let texts) = body.input else {
            throw APIError.invalidRequest(
                "Invalid 'input': token-id inputs are not supported; send strings.", param: "input",
                code: "invalid_value")
        }
        guard !texts.isEmpty else {
            throw APIError.invalidRequest("Invalid 'input': empty array.", param: "input", code: "empty_input")
        }
        guard texts.count <= Self.maxInputs else {
            throw APIError.invalidRequest(
                "Invalid 'input': at most \(Self.maxInputs) inputs per request, got \(texts.count).", param: "input",
                code: "invalid_value")
        }
        let format = body.encodingFormat ?? "float"
        guard format == "float" || format == "base64" else {
            throw APIError.invalidRequest(
                "Invalid 'encoding_format': '\(format)' (float or base64).", param: "encoding_format",
                code: "invalid_value")
        }
        if let dimensions = body.dimensions, dimensions != embedder.dimension {
            throw APIError.invalidRequest(
                "Invalid 'dimensions': this model's embeddings have \(embedder.dimension) dimensions.",
                param: "dimensions", code: "invalid_value")
        }
        guard let ticket = state.embeddingGate.admit() else {
            state.metrics.rejected.increment()
            throw APIError.queueFull(retryAfterSeconds: 1)
        }
        defer { ticket.release() }
        let input = embedder.prepare(texts)
        let tokens = input.tokenCount
        guard tokens <= Self.maxTotalTokens else {
            throw APIError.invalidRequest(
                "Invalid 'input': at most \(Self.maxTotalTokens) tokens per request over all inputs, got \(tokens).",
                param: "input", code: "too_many_tokens")
        }
        // Like generation: bounded by the request timeout, stopped when the client leaves.
        let timeout = state.configuration.requestTimeout
        let vectors: [[Float]]
        do {
            vectors = try await cancellingOnDisconnect(context.channel) {
                try await withTimeout(timeout) { try await embedder.embed(input) }
            }
        } catch let error as APIError where error == .timeout {
            state.metrics.timedOut.increment()
            throw error
        } catch is ClientDisconnected {
            state.metrics.cancelled.increment()
            throw ClientDisconnected()
        }
        state.metrics.embeddingInputs.increment(by: Int64(texts.count))
        let items = vectors.enumerated().map { index, vector in
            EmbeddingResponse.Item(
                index: index, embedding: format == "base64" ? .base64(Self.base64(vector)) : .floats(vector))
        }
        return JSONBody.response(
            EmbeddingResponse(data: items, model: modelID, usage: .init(promptTokens: tokens, totalTokens: tokens)))
    }

    /// The vector's float32 values, little-endian, in base64 (what OpenAI's clients decode).
    static func base64(_ vector: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Data(bytes).base64EncodedString()
    }
}
