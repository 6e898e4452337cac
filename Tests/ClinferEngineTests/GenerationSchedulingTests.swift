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
