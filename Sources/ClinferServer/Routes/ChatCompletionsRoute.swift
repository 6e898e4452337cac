import ClinferEngine
import Foundation
import Hummingbird

/// `POST /v1/chat/completions`: messages through the model's chat template, then generation;
/// with `stream: true`, server-sent `chat.completion.chunk` events and `data: [DONE]`.
struct ChatCompletionsRoute: Sendable {
    let state: ServerState
    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    func handle(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let received = ContinuousClock.now
        let (served, modelID) = try state.languageModel(nil)  // 503 while loading, before reading anything
        let body = try await JSONBody.decode(ChatCompletionRequest.self, from: request)
        _ = try state.languageModel(body.model)
        guard !body.messages.isEmpty else {
            throw APIError.invalidRequest(
                "Invalid 'messages': empty array. Expected an array with at least one message.", param: "messages",
                code: "empty_messages")
        }
        if let message = body.messages.first(where: { !Self.roles.contains($0.role) }) {
            throw APIError.invalidRequest(
                "Invalid 'messages': unknown role '\(message.role)' (system, developer, user, assistant or tool).",
                param: "messages", code: "invalid_value")
        }
        let model = served.language
        // Cheap bounds first, then a place in the queue, then the tokenizer's work.
        try GenerationService.checkPromptSize(
            utf8Count: body.messages.reduce(0) { $0 + $1.role.utf8.count + $1.content.utf8.count },
            model: model, param: "messages")
        let ticket = try state.generation.admit()
        let prompt = try model.chatTokens(body.messages.map(\.chatMessage))
        let parameters = try body.sampling.parameters(
            promptCount: prompt.count, contextLength: model.contextLength, promptParam: "messages", chat: true)
        let choices = try body.sampling.choices(slots: state.generation.slots)
        let job = GenerationJob(prompt: prompt, parameters: parameters, received: received, choices: choices)

        let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
        let created = Int(Date().timeIntervalSince1970)
        guard body.stream == true else {
            let outcomes = try await state.generation.collect(
                [job], model: model, channel: context.channel, ticket: ticket)
            return JSONBody.response(
                ChatCompletionResponse(
                    id: id, created: created, model: modelID,
                    choices: outcomes.enumerated().map { index, outcome in
                        .init(
                            index: index, message: .init(content: outcome.text),
                            finishReason: outcome.finishReason.openAI, logprobs: outcome.logprobs)
                    },
                    // The prompt counts once however many choices continue it.
                    usage: Usage(
                        promptTokens: prompt.count, completionTokens: outcomes.reduce(0) { $0 + $1.completionTokens })))
        }
        let chunk = ChatCompletionChunk.ChunkMaker(
            id: id, created: created, model: modelID, includeUsage: body.streamOptions?.includeUsage == true)
        var usage: (@Sendable (Usage) -> ByteBuffer)?
        if chunk.includeUsage { usage = { chunk([], usage: $0) } }
        let shape = StreamShape(
            opening: (0..<choices).map {
                chunk([.init(index: $0, delta: .init(role: "assistant", content: ""), finishReason: nil)])
            },
            delta: { text, logprobs, choice in
                chunk([.init(index: choice, delta: .init(content: text), finishReason: nil, logprobs: logprobs)])
            },
            closing: { reason, choice in chunk([.init(index: choice, delta: .init(), finishReason: reason.openAI)]) },
            usage: usage, offsets: [0])
        return state.generation.streamingResponse(
            [job], model: model, channel: context.channel, path: request.uri.path, ticket: ticket, shape: shape)
    }
}

extension FinishReason {
    /// OpenAI's `finish_reason`.
    var openAI: String {
        switch self {
        case .stop: "stop"
        case .length: "length"
        case .cancelled: "cancelled"
        }
    }
}
