import ClinferEngine
import Foundation
import Testing

@Suite("Generation scheduling: slots, the wait queue, cancellation", .serialized)
struct GenerationSchedulingTests {
    static let model = Result {
        try LanguageModel(
            path: TestModels.smolLM2, options: .init(backend: .opencl, contextLength: 256, slots: 2, maxWaiting: 1))
    }

    static func prompt(_ model: LanguageModel, _ text: String) throws -> [Int] { try model.chatTokens([.user(text)]) }

    /// Checks `condition` every 20 ms, at most `polls` times; the caller asserts it afterwards.
    static func poll(upTo polls: Int, _ condition: () -> Bool) async throws {
        var remaining = polls
        while remaining > 0, !condition() {
            try await Task.sleep(for: .milliseconds(20))
            remaining -= 1
        }
    }

    @Test(
        "a long prompt joining running generations is prefilled a chunk a round between their tokens, same tokens",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func chunkedPrefill() async throws {
        let model = try LanguageModel(
            path: TestModels.smolLM2,
            options: .init(backend: .opencl, contextLength: 512, slots: 2, promptCache: false, prefillChunk: 32))
        let short = try Self.prompt(model, "Count from one to fifty.")
        let long = try Self.prompt(model, String(repeating: "The tide comes in and the tide goes out. ", count: 20))
        #expect(long.count > 6 * 32)
        let longAlone = try await model.generate(tokens: long, parameters: .greedy(maxTokens: 8)).collect()
        // The short sequence runs 200 tokens (past any end token) so it is still generating
        // whenever the long prompt arrives, however slowly this test's task is scheduled.
        let running = GenerationParameters(maxTokens: 200, temperature: 0, ignoreEndOfSequence: true)
        let shortAlone = try await model.generate(tokens: short, parameters: running).collect()

        // The short sequence generates; once it has a few tokens the long prompt arrives. Each
        // round then prefills 32 of its tokens and the short one still gets its token.
        #expect(longAlone.stats.promptPasses == 1)
        let shortStream = model.generate(tokens: short, parameters: running)
        var shortTokens: [Int] = []
        var longTask: Task<GenerationResult, any Error>?
        for try await chunk in shortStream {
            if let token = chunk.token { shortTokens.append(token) }
            if shortTokens.count == 5 && longTask == nil {
                longTask = Task { try await model.generate(tokens: long, parameters: .greedy(maxTokens: 8)).collect() }
            }
        }
        let longTogether = try await longTask!.value
        #expect(shortTokens == shortAlone.tokens)
        #expect(longTogether.tokens == longAlone.tokens)
        // The short sequence was generating in every round of the long prompt's prefill, so the
        // prompt took one pass per 32-token chunk.
        #expect(longTogether.stats.promptPasses == (long.count + 31) / 32)
    }

    @Test(
        "prompts admitted in one round prefill in one batched pass and give the tokens they give alone",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func batchedPrefill() async throws {
        let model = try LanguageModel(
            path: TestModels.smolLM2, options: .init(backend: .opencl, contextLength: 256, slots: 3, promptCache: false)
        )
        let prompts = try ["What is the capital of France?", "Name a color.", "Say hello in French."].map {
            try Self.prompt(model, $0)
        }
        var alone: [[Int]] = []
        for prompt in prompts {
            alone.append(try await model.generate(tokens: prompt, parameters: .greedy(maxTokens: 10)).collect().tokens)
        }
        // Submitted before the scheduler's next round: admitted and prefilled together.
        let streams = prompts.map { model.generate(tokens: $0, parameters: .greedy(maxTokens: 10)) }
        var together: [[Int]] = []
        for stream in streams { together.append(try await stream.collect().tokens) }
        #expect(together == alone)
    }

    @Test(
        "n continuations of one prompt share one prefill: each equals its seed's generation alone, on OpenCL and CPU",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func severalContinuations() async throws {
        let cpu = try LanguageModel(
            path: TestModels.smolLM2, options: .init(backend: .cpu, contextLength: 64, slots: 2, maxWaiting: 1))
        for (model, length) in [(try Self.model.get(), 12), (cpu, 5)] {
            let prompt = try Self.prompt(model, "Tell me a story.")
            let parameters = GenerationParameters(maxTokens: length, temperature: 0.9, seed: 5)
            // The second continuation decodes from the KV cache copied from the first's slot: a
            // wrong copy changes its logits, and with them its tokens.
            let streams = model.generate(tokens: prompt, parameters: parameters, count: 2)
            #expect(streams.count == 2)
            async let first = streams[0].collect()
            async let second = streams[1].collect()
            let together = try await [first, second]
            for (index, result) in together.enumerated() {
                var own = parameters
                own.seed = 5 + UInt64(index)
                let alone = try await model.generate(tokens: prompt, parameters: own).collect()
                #expect(result.tokens == alone.tokens, "\(model.deviceName) continuation \(index)")
                #expect(result.stats.promptTokens == prompt.count)
            }
            #expect(together[0].tokens != together[1].tokens)
            // More continuations than slots can never start together: an error, not a wait.
            await #expect(throws: GenerationError.self) {
                _ = try await model.generate(tokens: prompt, parameters: .greedy(maxTokens: 2), count: 3)[2].collect()
            }
            #expect(model.activeSequences == 0 && model.waitingSequences == 0)
        }
    }

    @Test(
        "concurrent greedy generations (batched decode, a third joining mid-batch) give the tokens each gives alone",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func concurrentMatchesAlone() async throws {
        let model = try Self.model.get()
        let prompts = [
            try Self.prompt(model, "What is the capital of France?"), try Self.prompt(model, "Name a color."),
            try Self.prompt(model, "Say hello."),
        ]
        let lengths = [12, 20, 8]
        var alone: [[Int]] = []
        for (prompt, length) in zip(prompts, lengths) {
            alone.append(
                try await model.generate(tokens: prompt, parameters: .greedy(maxTokens: length)).collect().tokens)
        }
        // Two slots: the third waits and joins when the first finishes.
        async let first = model.generate(tokens: prompts[0], parameters: .greedy(maxTokens: lengths[0])).collect()
            .tokens
        async let second = model.generate(tokens: prompts[1], parameters: .greedy(maxTokens: lengths[1])).collect()
            .tokens
        async let third = model.generate(tokens: prompts[2], parameters: .greedy(maxTokens: lengths[2])).collect()
            .tokens
        let together = try await [first, second, third]
        #expect(together == alone)
        #expect(model.activeSequences == 0 && model.waitingSequences == 0)
    }

    @Test(
        "a full wait queue fails fast with queueFull; cancelling frees the slot",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func queueFullAndCancel() async throws {
        let model = try Self.model.get()
        let prompt = try Self.prompt(model, "Tell me a long story about a dragon.")
        let long = GenerationParameters(maxTokens: 200, temperature: 0, ignoreEndOfSequence: true)
        // Two slots busy, one waiting: the fourth request is refused.
        let busy = (0..<3).map { _ in Task { try await model.generate(tokens: prompt, parameters: long).collect() } }
        try await Self.poll(upTo: 500) { model.activeSequences >= 2 && model.waitingSequences >= 1 }
        #expect(model.activeSequences == 2 && model.waitingSequences == 1, "two slots busy, one waiting")
        await #expect(throws: GenerationError.queueFull(waiting: 1)) {
            _ = try await model.generate(tokens: prompt, parameters: long).collect()
        }
        for task in busy { task.cancel() }
        for task in busy {
            let result = try await task.value
            // Cancelled long before 200 tokens: a cancel that did not stop the sequence ends in .length.
            #expect(result.finishReason == .cancelled)
            #expect(result.tokens.count < long.maxTokens)
        }
        try await Self.poll(upTo: 100) { model.activeSequences + model.waitingSequences == 0 }
        #expect(model.activeSequences == 0 && model.waitingSequences == 0, "slots back to idle")
    }

    @Test(
        "a waiting sequence whose consumer goes away leaves the queue at once, while the slots stay busy",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func cancelledWaitingLeavesQueue() async throws {
        let model = try Self.model.get()
        let prompt = try Self.prompt(model, "Tell me a long story about a dragon.")
        let long = GenerationParameters(maxTokens: 200, temperature: 0, ignoreEndOfSequence: true)
        let busy = (0..<2).map { _ in Task { try await model.generate(tokens: prompt, parameters: long).collect() } }
        try await Self.poll(upTo: 500) { model.activeSequences >= 2 }
        let waiting = Task { try await model.generate(tokens: prompt, parameters: long).collect() }
        try await Self.poll(upTo: 500) { model.waitingSequences >= 1 }
        #expect(model.waitingSequences == 1)
        waiting.cancel()
        try await Self.poll(upTo: 50) { model.waitingSequences == 0 }
        // Out of the queue well before either running sequence could have finished its 200 tokens.
        #expect(model.waitingSequences == 0)
        #expect(model.activeSequences == 2)
        // The freed place admits a new request instead of queueFull.
        let next = Task { try await model.generate(tokens: prompt, parameters: .greedy(maxTokens: 1)).collect() }
        try await Task.sleep(for: .milliseconds(100))
        for task in busy { task.cancel() }
        #expect(try await next.value.finishReason == .length)
        _ = try await waiting.value
        for task in busy { _ = try await task.value }
    }
}
