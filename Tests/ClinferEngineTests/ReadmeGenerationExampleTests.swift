import ClinferEngine
import Testing

/// The README's "Using it from Swift" example, kept compiling and working.
@Suite("README generation example")
struct ReadmeGenerationExampleTests {
    @Test(
        "the example streams a chat reply and collects a seeded completion",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func example() async throws {
        let model = try await LanguageModel.load(path: TestModels.smolLM2)
        var streamed = ""
        for try await chunk in model.chat([.user("What is the capital of France?")], parameters: .greedy(maxTokens: 64))
        {
            streamed += chunk.text
        }
        #expect(streamed.contains("Paris"))
        let reply = try await model.generate(
            prompt: "Once upon a time", parameters: GenerationParameters(maxTokens: 32, seed: 7)
        ).collect()
        let again = try await model.generate(
            prompt: "Once upon a time", parameters: GenerationParameters(maxTokens: 32, seed: 7)
        ).collect()
        #expect(!reply.text.isEmpty && reply.stats.decodeTokensPerSecond > 0)
        #expect(reply.tokens == again.tokens, "a seed reproduces a sampled generation")
    }
}
