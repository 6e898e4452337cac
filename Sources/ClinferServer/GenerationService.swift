import ClinferEngine
import Hummingbird
import Logging
import NIOCore

/// One prompt to continue `choices` times (OpenAI's `n`: the prompt runs once): prompt tokens,
/// sampling, and when the request arrived (for time-to-first-token and latency).
struct GenerationJob: Sendable {
    var prompt: [Int]
    var parameters: GenerationParameters
    var received: ContinuousClock.Instant
    var choices = 1
}

/// What a finished sequence produced.
struct GenerationOutcome: Sendable {
    var text: String
    var finishReason: FinishReason
    var promptTokens: Int
    var completionTokens: Int
    /// Each generated token's log-probability entry, when the job asked for them (else nil).
    var logprobs: [LoggedToken]?
}

/// How a streamed response looks: the events before the first token, one per text delta, the
/// closing events of each choice, and the usage event.
struct StreamShape: Sendable {
    var opening: [ByteBuffer]
    /// `logprobs`: the entries of the tokens since the last delta (nil when not asked for).
    var delta: @Sendable (_ text: String, _ logprobs: [LoggedToken]?, _ choice: Int) -> ByteBuffer
    var closing: @Sendable (_ reason: FinishReason, _ choice: Int) -> ByteBuffer
    /// nil unless the client asked for `stream_options.include_usage`.
    var usage: (@Sendable (Usage) -> ByteBuffer)?
    /// Where each job's generated text starts (its echoed prompt's length), for `text_offset`.
    var offsets: [Int]
}

/// Runs generations for the routes: admission (429 when the slots and the queue are full),
/// metrics, KV tracking, the request timeout, and cancellation when the client goes away.
final class GenerationService: Sendable {
    let gate: AdmissionGate
    let tracker = SequenceTracker()
    let metrics: ServerMetrics
    let timeout: Duration?
    let slots: Int
    let logger: Logger

    init(slots: Int, queueSize: Int, timeout: Duration?, metrics: ServerMetrics, logger: Logger) {
        self.slots = slots
        gate = AdmissionGate(capacity: slots + queueSize)
        self.timeout = timeout
        self.metrics = metrics
        self.logger = logger
    }

    /// Refuses a prompt of `utf8Count` bytes that cannot fit the context whatever its tokens:
    /// a token stands for at most `longestTokenBytes` bytes. Runs before admission and before
    /// tokenizing, so a huge prompt costs neither a place in the queue nor the tokenizer's work.
    static func checkPromptSize(utf8Count: Int, model: LanguageModel, param: String) throws(APIError) {
        let fewestTokens = utf8Count / model.tokenizer.longestTokenBytes
        guard fewestTokens < model.contextLength else {
            throw APIError.contextLengthExceeded(
                limit: model.contextLength, prompt: fewestTokens, completion: nil, atLeast: true
            ).with(param: param)
        }
    }

    /// A place for one request, or 429 with `Retry-After`.
    func admit() throws(APIError) -> AdmissionTicket {
        guard let ticket = gate.admit() else {
            metrics.rejected.increment()
            throw APIError.queueFull(retryAfterSeconds: 1)
        }
        return ticket
    }

    /// Generates the job's continuations together, handing each released piece of text to
    /// `onText` (the choice within the job, the text, and the log-probability entries of the
    /// tokens since that choice's last piece when the job asks for them; offsets count from
    /// `offset`) and each finished choice to `onFinish`. Cancelling the calling task stops every
    /// continuation at its next token and frees its slot.
    func run(
        _ job: GenerationJob, model: LanguageModel, offset: Int = 0,
        onText: @escaping @Sendable (Int, String, [LoggedToken]?) -> Void = { _, _, _ in },
        onFinish: @escaping @Sendable (Int, GenerationOutcome) -> Void = { _, _ in }
    ) async throws -> [GenerationOutcome] {
        metrics.promptTokens.increment(by: Int64(job.prompt.count))
        let streams = model.generate(tokens: job.prompt, parameters: job.parameters, count: job.choices)
        return try await withThrowingTaskGroup(of: (Int, GenerationOutcome).self) { group in
            for (choice, stream) in streams.enumerated() {
                group.addTask {
                    let outcome = try await self.consume(stream, job: job, model: model, offset: offset) {
                        onText(choice, $0, $1)
                    }
                    onFinish(choice, outcome)
                    return (choice, outcome)
                }
            }
            var outcomes = [GenerationOutcome?](repeating: nil, count: streams.count)
            for try await (choice, outcome) in group { outcomes[choice] = outcome }
            return outcomes.map { $0! }
        }
    }

    /// One continuation's stream: metrics, KV tracking, text and log-probability entries.
    private func consume(
        _ stream: AsyncThrowingStream<GenerationChunk, any Error>, job: GenerationJob, model: LanguageModel,
        offset: Int, onText: @Sendable (String, [LoggedToken]?) -> Void
    ) async throws -> GenerationOutcome {
        let id = tracker.begin()
        defer { tracker.end(id) }
        let logging = job.parameters.logprobs != nil
        var text = "", generated = 0, finish = FinishReason.length
        var logged: [LoggedToken] = [], sent = 0, offset = offset
        for try await chunk in stream {
            if let token = chunk.token {
                if generated == 0 { metrics.timeToFirstToken.record(ContinuousClock.now - job.received) }
                generated += 1
                metrics.generatedTokens.increment()
                metrics.throughput.record()
                tracker.update(id, positions: job.prompt.count + generated)
                if logging {
                    let entry = LoggedToken(
                        token: token, logprob: chunk.logprob, tokenizer: model.tokenizer, offset: offset)
                    offset += entry.length
                    logged.append(entry)
                }
            }
            // Text held back (a partial character, a possible stop string) keeps its tokens'
            // entries pending until it is released or the sequence ends.
            let unsent = logged.count > sent && (chunk.finishReason != nil || !chunk.text.isEmpty)
            if !chunk.text.isEmpty || unsent {
                text += chunk.text
                onText(chunk.text, logging ? Array(logged[sent...]) : nil)
                sent = logged.count
            }
            if let reason = chunk.finishReason { finish = reason }
            if let stats = chunk.stats {
                metrics.recordPrompt(tokens: stats.promptTokens, cached: stats.cachedPromptTokens)
            }
        }
        if Task.isCancelled || finish == .cancelled {
            metrics.cancelled.increment()
            throw CancellationError()
        }
        metrics.latency.record(ContinuousClock.now - job.received)
        return GenerationOutcome(
            text: text, finishReason: finish, promptTokens: job.prompt.count, completionTokens: generated,
            logprobs: logging ? logged : nil)
    }

    /// The prompt's log-probability entries (`echo` with `logprobs`): the first token's is null.
    func promptLogprobs(_ prompt: [Int], top: Int, model: LanguageModel) async throws -> [LoggedToken] {
        let logprobs = try await model.promptLogprobs(tokens: prompt, top: top)
        return LoggedToken.run(prompt, logprobs: logprobs, tokenizer: model.tokenizer, offset: 0)
    }

    /// Runs `jobs` one after another (each job's choices together) within the request timeout,
    /// cancelled when the client disconnects, and returns their outcomes, job by job.
    func collect(
        _ jobs: [GenerationJob], model: LanguageModel, channel: any Channel, ticket: AdmissionTicket,
        offsets: [Int]? = nil
    ) async throws -> [GenerationOutcome] {
        defer { ticket.release() }
        do {
            return try await cancellingOnDisconnect(channel) {
                try await withTimeout(self.timeout) {
                    var outcomes: [GenerationOutcome] = []
                    for (index, job) in jobs.enumerated() {
                        outcomes += try await self.run(job, model: model, offset: offsets?[index] ?? 0)
                    }
                    return outcomes
                }
            }
        } catch let error as APIError where error == .timeout {
            metrics.timedOut.increment()
            throw error
        }
    }

    /// A `text/event-stream` response that generates `jobs` one after another as it is written.
    /// A client that disconnects cancels the generation at once; a timeout or an engine error
    /// after the 200 head becomes an error event followed by `[DONE]`.
    func streamingResponse(
        _ jobs: [GenerationJob], model: LanguageModel, channel: any Channel, path: String,
        ticket: AdmissionTicket, shape: StreamShape
    ) -> Response {
        Response(
            status: .ok, headers: ServerSentEvents.headers,
            body: .init { [self] writer in
                defer { ticket.release() }
                let (events, sink) = AsyncStream.makeStream(of: ByteBuffer.self)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        defer { sink.finish() }
                        // The stream writes every token, so a client that really left is noticed
                        // by a failed write; one that only half-closed keeps its stream.
                        try await cancellingOnDisconnect(channel, until: .closed) {
                            try await self.produce(jobs, model: model, path: path, shape: shape, into: sink)
                        }
                    }
                    for await event in events { try await writer.write(event) }
                    try await group.waitForAll()
                }
                try await writer.finish(nil)
            })
    }

    /// The events of a streamed response, ending with `[DONE]`.
    private func produce(
        _ jobs: [GenerationJob], model: LanguageModel, path: String, shape: StreamShape,
        into sink: AsyncStream<ByteBuffer>.Continuation
    ) async throws {
        for event in shape.opening { sink.yield(event) }
        do {
            let usage = try await withTimeout(timeout) {
                var usage = Usage(promptTokens: 0, completionTokens: 0), first = 0
                for (index, job) in jobs.enumerated() {
                    let base = first
                    let outcomes = try await self.run(
                        job, model: model, offset: shape.offsets[index],
                        onText: { choice, text, logprobs in sink.yield(shape.delta(text, logprobs, base + choice)) },
                        onFinish: { choice, outcome in sink.yield(shape.closing(outcome.finishReason, base + choice)) })
                    first += job.choices
                    // The prompt counts once however many choices continue it.
                    usage = Usage(
                        promptTokens: usage.promptTokens + job.prompt.count,
                        completionTokens: usage.completionTokens + outcomes.reduce(0) { $0 + $1.completionTokens })
                }
                return usage
            }
            if let event = shape.usage?(usage) { sink.yield(event) }
        } catch let error where error is CancellationError || error is ClientDisconnected {
            throw error
        } catch {
            let apiError = APIError.from(error, path: path)
            if apiError == .timeout { metrics.timedOut.increment() }
            logger.warning("stream ended with an error", metadata: ["error": .string(apiError.description)])
            sink.yield(ServerSentEvents.event(ErrorEnvelope(apiError)))
        }
        sink.yield(ServerSentEvents.done)
    }
}
