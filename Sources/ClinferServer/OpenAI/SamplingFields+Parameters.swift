import ClinferEngine

extension SamplingFields {
    /// Stop strings per request at most.
    static let maxStops = 16
    /// Choices (`n`) per prompt at most.
    static let maxChoices = 8
    /// The longest stop string, in characters: each is looked for after every token, inside the
    /// decode round every running sequence shares.
    static let maxStopLength = 256

    /// The engine's parameters for a prompt of `promptCount` tokens with `contextLength`
    /// positions: OpenAI's defaults (temperature 1, top_p 1, no top-k or min-p), every field
    /// range-checked with the offending `param` named, and the prompt plus `max_tokens` checked
    /// against the context (`context_length_exceeded`). Without `max_tokens` the completion may
    /// fill the context. `chat` picks the endpoint's `logprobs` shape; `allowNoCompletion`
    /// accepts `max_tokens: 0` (scoring a prompt with `echo`).
    func parameters(
        promptCount: Int, contextLength: Int, promptParam: String, chat: Bool, allowNoCompletion: Bool = false
    ) throws(APIError) -> GenerationParameters {
        func invalid(_ param: String, _ message: String) -> APIError {
            APIError.invalidRequest("Invalid '\(param)': \(message)", param: param, code: "invalid_value")
        }
        if let n, !(1...Self.maxChoices).contains(n) {
            throw invalid("n", "must be in [1, \(Self.maxChoices)], got \(n).")
        }
        if let bestOf, bestOf != 1 { throw invalid("best_of", "only best_of = 1 is supported, got \(bestOf).") }
        let requested = maxCompletionTokens ?? maxTokens
        let requestedParam = maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens"
        let fewest = allowNoCompletion ? 0 : 1
        if let requested, requested < fewest {
            throw invalid(requestedParam, "must be at least \(fewest), got \(requested).")
        }
        if let temperature, !(0...2).contains(temperature) {
            throw invalid("temperature", "must be in [0, 2], got \(temperature).")
        }
        if let topP, !(topP > 0 && topP <= 1) { throw invalid("top_p", "must be in (0, 1], got \(topP).") }
        if let topK, topK < 0 { throw invalid("top_k", "must be ≥ 0, got \(topK).") }
        if let minP, !(0...1).contains(minP) { throw invalid("min_p", "must be in [0, 1], got \(minP).") }
        if let repetitionPenalty, !(repetitionPenalty > 0 && repetitionPenalty.isFinite) {
            throw invalid("repetition_penalty", "must be > 0, got \(repetitionPenalty).")
        }
        if let presencePenalty, !(-2...2).contains(presencePenalty) {
            throw invalid("presence_penalty", "must be in [-2, 2], got \(presencePenalty).")
        }
        if let frequencyPenalty, !(-2...2).contains(frequencyPenalty) {
            throw invalid("frequency_penalty", "must be in [-2, 2], got \(frequencyPenalty).")
        }
        let stops = stop?.values ?? []
        if stops.contains(where: \.isEmpty) { throw invalid("stop", "stop strings must not be empty.") }
        if stops.count > Self.maxStops {
            throw invalid("stop", "at most \(Self.maxStops) stop strings, got \(stops.count).")
        }
        if let long = stops.first(where: { $0.count > Self.maxStopLength }) {
            throw invalid(
                "stop", "stop strings may be at most \(Self.maxStopLength) characters, got one of \(long.count).")
        }

        guard promptCount > 0 else {
            throw APIError.invalidRequest("The prompt is empty.", param: promptParam, code: "empty_prompt")
        }
        guard promptCount < contextLength else {
            throw APIError.contextLengthExceeded(limit: contextLength, prompt: promptCount, completion: requested).with(
                param: promptParam)
        }
        // `requested` is the client's number (up to Int.max): compare without adding to it.
        if let requested, requested > contextLength - promptCount {
            throw APIError.contextLengthExceeded(limit: contextLength, prompt: promptCount, completion: requested).with(
                param: requestedParam)
        }
        let parameters = GenerationParameters(
            maxTokens: requested ?? contextLength - promptCount,
            temperature: Float(temperature ?? 1), topK: topK ?? 0, topP: Float(topP ?? 1), minP: Float(minP ?? 0),
            repetitionPenalty: Float(repetitionPenalty ?? 1), presencePenalty: Float(presencePenalty ?? 0),
            frequencyPenalty: Float(frequencyPenalty ?? 0),
            seed: seed.map { UInt64(bitPattern: $0) }, stop: stops, ignoreEndOfSequence: ignoreEOS ?? false,
            logprobs: try reportedAlternatives(chat: chat), responseFormat: try format())
        do {
            try parameters.validate()
        } catch {
            throw APIError.from(error, path: "")
        }
        return parameters
    }
}

extension SamplingFields {
    /// The engine's response format (nil for text), with the schema checked: a keyword the
    /// grammar cannot enforce is a 400 naming it.
    func format() throws(APIError) -> ResponseFormat? {
        guard let responseFormat else { return nil }
        func invalid(_ message: String, code: String = "invalid_value") -> APIError {
            APIError.invalidRequest("Invalid 'response_format': \(message)", param: "response_format", code: code)
        }
        switch responseFormat.type {
        case "text": return nil
        case "json_object": return .jsonObject
        case "json_schema":
            guard let schema = responseFormat.jsonSchema?.schema else {
                throw invalid("'json_schema.schema' is required for type 'json_schema'.")
            }
            do {
                let parsed = try JSONSchema(json: schema)
                try parsed.checkSize()
                return .jsonSchema(parsed)
            } catch .unsupported(let keyword, let path) {
                throw invalid(
                    "the JSON schema keyword '\(keyword)' (at \(path)) is not supported.", code: "unsupported_schema")
            } catch {
                throw invalid("\(error).", code: "invalid_schema")
            }
        default:
            throw invalid("type must be 'text', 'json_object' or 'json_schema', got '\(responseFormat.type)'.")
        }
    }

    /// `n` (range-checked by ``parameters(promptCount:contextLength:promptParam:chat:allowNoCompletion:)``),
    /// which must also fit the server's slots: a prompt's choices generate together.
    func choices(slots: Int) throws(APIError) -> Int {
        let choices = n ?? 1
        guard choices <= slots else {
            throw APIError.invalidRequest(
                "Invalid 'n': \(choices) choices generate together and need as many slots; this server has \(slots).",
                param: "n", code: "invalid_value")
        }
        return choices
    }

    /// How many alternatives each token's log-probability comes with, or nil when none are asked
    /// for. Chat: `logprobs: true` with `top_logprobs` (0…20); completions: `logprobs` (0…20).
    func reportedAlternatives(chat: Bool) throws(APIError) -> Int? {
        func invalid(_ param: String, _ message: String) -> APIError {
            APIError.invalidRequest("Invalid '\(param)': \(message)", param: param, code: "invalid_value")
        }
        let limit = TokenLogprob.maxTop
        if chat {
            if case .count = logprobs { throw invalid("logprobs", "must be a boolean for chat completions.") }
            guard case .flag(true) = logprobs else {
                if let topLogprobs, topLogprobs != 0 {
                    throw invalid("top_logprobs", "requires 'logprobs': true.")
                }
                return nil
            }
            let top = topLogprobs ?? 0
            guard (0...limit).contains(top) else {
                throw invalid("top_logprobs", "must be in [0, \(limit)], got \(top).")
            }
            return top
        }
        if let topLogprobs, topLogprobs != 0 {
            throw invalid("top_logprobs", "is a chat completions field; text completions take a count in 'logprobs'.")
        }
        switch logprobs {
        case nil, .flag(false): return nil
        case .flag(true): throw invalid("logprobs", "must be an integer in [0, \(limit)] for text completions.")
        case .count(let count):
            guard (0...limit).contains(count) else {
                throw invalid("logprobs", "must be in [0, \(limit)], got \(count).")
            }
            return count
        }
    }
}

extension APIError {
    func with(param: String) -> APIError {
        var copy = self
        copy.param = param
        return copy
    }
}
