import ClinferEngine
import Foundation
import Hummingbird

/// `POST /v1/completions`: a prompt (string, list of strings, token ids) continued as is; one
/// choice per prompt, generated one after another; the same sampling and streaming as chat.
struct CompletionsRoute: Sendable {
    let state: ServerState
    /// Prompts per request at most.
    static let maxPrompts = 16

    func handle(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let received = ContinuousClock.now
        let (served, modelID) = try state.languageModel(nil)
        let body = try await JSONBody.decode(CompletionRequest.self, from: request)
        _ = try state.languageModel(body.model)
        if let suffix = body.suffix, !suffix.isEmpty {
            throw APIError.invalidRequest(
                "Invalid 'suffix': insertion (suffix) is not supported.", param: "suffix", code: "invalid_value")
        }
        let model = served.language
        // Cheap bounds first, then a place in the queue, then the tokenizer's work.
        try Self.checkPromptCount(body.prompt)
        if case .texts(let texts) = body.prompt {
            for text in texts {
                try GenerationService.checkPromptSize(utf8Count: text.utf8.count, model: model, param: "prompt")
            }
        }
        let ticket = try state.generation.admit()
        let prompts = try Self.promptTokens(body.prompt, model: model)
        let echo = body.echo == true
        let jobs = try prompts.map { tokens throws(APIError) in
            GenerationJob(
                prompt: tokens,
                parameters: try body.sampling.parameters(
                    promptCount: tokens.count, contextLength: model.contextLength, promptParam: "prompt", chat: false,
                    allowNoCompletion: echo),
                received: received, choices: try body.sampling.choices(slots: state.generation.slots))
        }
        // Choice i continues prompt i / n (OpenAI's order).
        let n = jobs.first?.choices ?? 1
        let echoes = echo ? try prompts.map { try model.tokenizer.decode($0) } : prompts.map { _ in "" }
        // With echo, the prompt's own tokens come first in `logprobs` (the first one null).
        var echoed: [[LoggedToken]]? = nil
        if echo, let top = jobs.first?.parameters.logprobs {
            do {
                var entries: [[LoggedToken]] = []
                for prompt in prompts {
                    entries.append(try await state.generation.promptLogprobs(prompt, top: top, model: model))
                }
                echoed = entries
            } catch {
                ticket.release()
                throw error
            }
        }
        let offsets = prompts.indices.map { index in echoed.map { $0[index].reduce(0) { $0 + $1.length } } ?? 0 }

        let id = "cmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
        let created = Int(Date().timeIntervalSince1970)
        guard body.stream == true else {
            let outcomes = try await state.generation.collect(
                jobs, model: model, channel: context.channel, ticket: ticket, offsets: offsets)
            let choices = outcomes.enumerated().map { index, outcome in
                CompletionResponse.Choice(
                    index: index, text: echoes[index / n] + outcome.text, finishReason: outcome.finishReason.openAI,
                    logprobs: outcome.logprobs.map { (echoed?[index / n] ?? []) + $0 })
            }
            // A prompt counts once however many choices continue it.
            let usage = Usage(
                promptTokens: prompts.map(\.count).reduce(0, +),
                completionTokens: outcomes.map(\.completionTokens).reduce(0, +))
            return JSONBody.response(
                CompletionResponse(id: id, created: created, model: modelID, choices: choices, usage: .some(usage)))
        }
        let chunk = CompletionResponse.ChunkMaker(
            id: id, created: created, model: modelID, includeUsage: body.streamOptions?.includeUsage == true)
        var usage: (@Sendable (Usage) -> ByteBuffer)?
        if chunk.includeUsage { usage = { chunk([], usage: $0) } }
        let opening = (0..<prompts.count * n).filter { !echoes[$0 / n].isEmpty }.map {
            chunk([.init(index: $0, text: echoes[$0 / n], finishReason: nil, logprobs: echoed?[$0 / n])])
        }
        let shape = StreamShape(
            opening: opening,
            delta: { text, logprobs, choice in
                chunk([.init(index: choice, text: text, finishReason: nil, logprobs: logprobs)])
            },
            closing: { reason, choice in chunk([.init(index: choice, text: "", finishReason: reason.openAI)]) },
            usage: usage, offsets: offsets)
        return state.generation.streamingResponse(
            jobs, model: model, channel: context.channel, path: request.uri.path, ticket: ticket, shape: shape)
    }

    /// One to ``maxPrompts`` prompts.
    static func checkPromptCount(_ prompt: CompletionRequest.Prompt) throws(APIError) {
        guard prompt.count >= 1 else {
            throw APIError.invalidRequest("Invalid 'prompt': empty array.", param: "prompt", code: "empty_prompt")
        }
        guard prompt.count <= maxPrompts else {
            throw APIError.invalidRequest(
                "Invalid 'prompt': at most \(maxPrompts) prompts per request, got \(prompt.count).", param: "prompt",
                code: "invalid_value")
        }
    }

    /// Token ids per prompt (``checkPromptCount(_:)`` has passed): text through the model's
    /// tokenizer (its BOS rule), ids checked against the vocabulary.
    static func promptTokens(_ prompt: CompletionRequest.Prompt, model: LanguageModel) throws(APIError) -> [[Int]] {
        switch prompt {
        case .texts(let texts):
            return texts.map { model.tokenizer.encode($0) }
        case .tokens(let lists):
            let size = model.tokenizer.vocabularySize
            if let bad = lists.joined().first(where: { !(0..<size).contains($0) }) {
                throw APIError.invalidRequest(
                    "Invalid 'prompt': token id \(bad) is outside the vocabulary (0..<\(size)).", param: "prompt",
                    code: "invalid_token")
            }
            return lists
        }
    }
}
