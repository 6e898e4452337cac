import ClinferEngine
import Testing

@Suite("Sampler")
struct SamplerTests {
    @Test("NaN logits never crash the sampler and are never chosen", arguments: [0, 0.7, 1.5] as [Float])
    func nanLogits(temperature: Float) {
        for topK in [0, 3, 40] {
            var sampler = Sampler(
                parameters: GenerationParameters(
                    temperature: temperature, topK: topK, topP: 0.9, minP: 0.05,
                    repetitionPenalty: 1.1, seed: 7))
            var logits = [Float](repeating: .nan, count: 100)
            logits[42] = 1
            logits[17] = 0.5
            for _ in 0..<20 {
                let token = sampler.sample(logits, history: [42, 17, 3])
                #expect(token == 42 || token == 17, "temperature \(temperature), top-k \(topK)")
            }
            // Every logit NaN or infinite: still a token in range.
            let allNaN = sampler.sample([Float](repeating: .nan, count: 100), history: [])
            #expect((0..<100).contains(allNaN))
            let infinite = sampler.sample([Float](repeating: -.infinity, count: 10) + [.infinity], history: [])
            #expect(infinite == 10)
        }
    }

    @Test("argmax skips NaN, including in first place")
    func argmax() {
        #expect(Sampler.argmax([.nan, 1, 3, .nan, 2]) == 2)
        #expect(Sampler.argmax([1, 1]) == 0)
    }
}
