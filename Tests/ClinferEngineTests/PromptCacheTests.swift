import Foundation
import Testing

@testable import ClinferEngine

@Suite("Prompt cache: reusing an idle slot's keys and values", .serialized)
struct PromptCacheTests {
    @Test("slot choice: longest shared prefix, else least recently used; the last prompt token always runs")
    func choice() {
        var cache = PromptCache(slots: 3, enabled: true)
        var free = [0, 1, 2]
        cache.release(0, holding: [1, 2, 3, 4])
        cache.release(1, holding: [1, 2, 9])
        cache.release(2, holding: [])
        let best = cache.take(from: &free, for: [1, 2, 3, 4, 5])
        #expect(best.slot == 0 && best.reused == 4 && free == [1, 2])
        // The whole prompt cached: one token is still prefilled for its logits.
        cache.release(0, holding: [7, 8, 9])
        free.append(0)
        #expect(cache.take(from: &free, for: [7, 8, 9]) == (slot: 0, reused: 2))
        // Nothing shared: the least recently used slot (1 was released before 2).
        #expect(cache.take(from: &free, for: [42]) == (slot: 1, reused: 0))
        var off = PromptCache(slots: 1, enabled: false)
        var one = [0]
        off.release(0, holding: [1, 2, 3])
        #expect(off.take(from: &one, for: [1, 2, 3, 4]).reused == 0)
    }

    @Test(
        "a chat's next turn prefills only the new messages and gives the tokens an uncached model gives",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func nextTurn() async throws {
        let cached = try LanguageModel(
            path: TestModels.smolLM2, options: .init(backend: .opencl, contextLength: 512, slots: 1))
        let uncached = try LanguageModel(
            path: TestModels.smolLM2, options: .init(backend: .opencl, contextLength: 512, slots: 1, promptCache: false)
        )
        var messages: [ChatMessage] = [.user("What is the capital of France?")]
        for turn in 0..<3 {
            let prompt = try cached.chatTokens(messages)
            let reply = try await cached.generate(tokens: prompt, parameters: .greedy(maxTokens: 16)).collect()
            let reference = try await uncached.generate(tokens: prompt, parameters: .greedy(maxTokens: 16)).collect()
            #expect(reply.tokens == reference.tokens, "turn \(turn)")
            #expect(reference.stats.cachedPromptTokens == 0)
            if turn > 0 {
                // Everything up to the previous reply is reused (the template's re-rendering of
                // that reply may differ in its last token or two).
                #expect(reply.stats.cachedPromptTokens >= prompt.count - 24, "turn \(turn): \(reply.stats)")
            }
            messages += [.assistant(reply.text), .user(["And of Italy?", "And of Spain?", "Thanks!"][turn])]
        }
    }

    @Test(
        "memory beyond the running slots keeps more prompts; without it the least recently used one goes",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func extraSlots() async throws {
        let texts = ["Once upon a time there was", "The quick brown fox", "In the beginning the", "Water boils at"]
        let probe = try LanguageModel(
            path: TestModels.smolLM2, options: .init(backend: .opencl, contextLength: 128, slots: 1))
        let c = probe.configuration
        let slotBytes = 2 * c.layers * c.kvHeads * c.headDim * probe.contextLength * 4
        for (extra, expectHit) in [(3, true), (0, false)] {
            let model = try LanguageModel(
                path: TestModels.smolLM2,
                options: .init(backend: .opencl, contextLength: 128, slots: 1, promptCacheBytes: extra * slotBytes))
            let prompts = texts.map { model.tokenizer.encode($0) }
            for prompt in prompts {
                _ = try await model.generate(tokens: prompt, parameters: .greedy(maxTokens: 2)).collect()
            }
            let again = try await model.generate(tokens: prompts[0], parameters: .greedy(maxTokens: 2)).collect()
            #expect((again.stats.cachedPromptTokens == prompts[0].count - 1) == expectHit, "extra slots \(extra)")
        }
    }
}
