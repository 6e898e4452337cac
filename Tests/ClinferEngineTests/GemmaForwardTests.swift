import ClinferEngine
import ClinferOps
import Foundation
import Testing

/// `Golden/gemma3-forward.json` (scripts/reference/gemma3_forward.py: float64 numpy over the
/// `gguf` package's dequantized tensors): two teacher-forced prompts, 150 tokens and 700 (past
/// the 512-key sliding window), top-10 logits per position; greedy continuations.
struct GemmaForwardGolden: Decodable {
    struct Prompt: Decodable {
        let tokens: [Int]
        let positions: [ForwardGolden.Position]
        let argmax: [Int]
        let top2_margin: [Double]
        let greedy: [Int]?
    }
    struct Continuation: Decodable {
        let tokens: [Int]
        let greedy: [Int]
    }
    let prompts: [Prompt]
    let france: Continuation
}

@Suite("Gemma 3 270M (Q4_K_M) forward pass: OpenCL, CPU and the float64 reference", .serialized)
struct GemmaForwardTests {
    /// |Δlogit| against the float64 reference on its top-10 ids (fp32 accumulation over 18 layers
    /// with logits up to ~40), and the margin above which the argmax must agree.
    static let tolerance = 2e-2, decisiveMargin = 0.1

    static let openCL = Result {
        try LanguageModel(path: TestModels.gemma3, options: .init(backend: .opencl, contextLength: 1024))
    }
    static let cpu = Result {
        try LanguageModel(path: TestModels.gemma3, options: .init(backend: .cpu, contextLength: 1024))
    }

    @Test(
        "the configuration: gemma3, head dim 256, 4 heads over 1 KV head, sliding window 512 on five of six layers",
        .enabled(if: TestModels.required(TestModels.gemma3)))
    func configuration() throws {
        let c = try DecoderConfiguration(gguf: GGUFFile(path: TestModels.gemma3))
        #expect(c.architecture == "gemma3" && c.layers == 18 && c.embedding == 640 && c.headDim == 256)
        #expect(c.heads == 4 && c.kvHeads == 1 && c.activation == .geluTanh && c.headNorms && c.postNorms)
        #expect(c.layerAttention.map(\.window) == (0..<18).map { $0 % 6 == 5 ? nil : 512 })
        #expect(c.layerAttention.map(\.ropeBase) == (0..<18).map { $0 % 6 == 5 ? 1_000_000 : 10_000 })
        #expect(abs(c.embeddingScale! - Float(640).squareRoot()) < 1e-5)
    }

    @Test(
        "teacher-forced logits within 2e-2 of the float64 reference at 150 and 700 tokens, argmax equal where decisive",
        .enabled(if: TestModels.required(TestModels.gemma3)))
    func matchesReference() async throws {
        let reference = try golden("gemma3-forward.json", as: GemmaForwardGolden.self)
        for model in [try Self.openCL.get(), try Self.cpu.get()] {
            for prompt in reference.prompts {
                let logits = try await model.logits(tokens: prompt.tokens)
                #expect(logits.count == prompt.tokens.count)
                var worst = 0.0
                for (position, expected) in prompt.positions.enumerated() {
                    for (id, value) in zip(expected.ids, expected.logits) {
                        worst = max(worst, abs(Double(logits[position][id]) - value))
                    }
                    if prompt.top2_margin[position] > Self.decisiveMargin {
                        #expect(
                            Sampler.argmax(logits[position]) == prompt.argmax[position],
                            "\(model.deviceName) \(prompt.tokens.count) tokens, argmax at \(position)")
                    }
                }
                #expect(worst <= Self.tolerance, "\(model.deviceName) \(prompt.tokens.count) tokens: max |Δ| \(worst)")
            }
        }
    }

    @Test(
        "greedy continuations equal the reference's (\"The capital of France is\" and the 150-token prompt)",
        .enabled(if: TestModels.required(TestModels.gemma3)))
    func greedy() async throws {
        let reference = try golden("gemma3-forward.json", as: GemmaForwardGolden.self)
        let prompt = reference.prompts[0]
        for model in [try Self.openCL.get(), try Self.cpu.get()] {
            let france = try await model.generate(
                tokens: reference.france.tokens, parameters: .greedy(maxTokens: reference.france.greedy.count)
            ).collect()
            #expect(france.tokens == reference.france.greedy, "\(model.deviceName)")
            let story = try await model.generate(tokens: prompt.tokens, parameters: .greedy(maxTokens: 8)).collect()
            #expect(story.tokens == prompt.greedy, "\(model.deviceName)")
        }
        // The same ids from the text, through the SentencePiece tokenizer.
        let model = try Self.openCL.get()
        #expect(model.tokenizer.encode("The capital of France is") == reference.france.tokens)
        let text = try model.tokenizer.decode(reference.france.greedy)
        #expect(text.hasPrefix(" the capital of the country of France."), "\(text)")
    }

    @Test(
        "decoding token by token past the window gives the logits of one prefill",
        .enabled(if: TestModels.required(TestModels.gemma3)))
    func decodeMatchesPrefill() throws {
        let backend = try #require(try OpenCLBackend.make(), "no OpenCL device")
        let model = try TestModels.smolLM2Model(
            on: try OpenCLTransformerOps(backend: backend), maxPositions: 600, path: TestModels.gemma3)
        let tokens = Array(try golden("gemma3-forward.json", as: GemmaForwardGolden.self).prompts[1].tokens.prefix(540))
        let vocabulary = model.configuration.vocabularySize
        let prefill = try model.forward(tokens, cache: try model.makeCache(capacity: 600), logits: .all)
        // Prefill 510 tokens, then decode 30 one at a time across the 512-key window edge (the
        // sliding layers' decode reads only the last 512 keys).
        let cache = try model.makeCache(capacity: 600)
        _ = try model.forward(Array(tokens.prefix(510)), cache: cache)
        var worst: Float = 0
        for position in 510..<540 {
            let step = try model.forward([tokens[position]], cache: cache)
            let expected = prefill[position * vocabulary..<(position + 1) * vocabulary]
            for (x, y) in zip(step, expected) { worst = max(worst, abs(x - y)) }
        }
        #expect(worst <= 2e-2, "max |Δlogit| \(worst)")
    }

    @Test(
        "a base model without a chat template refuses chat with a clear error",
        .enabled(if: TestModels.required(TestModels.gemma3)))
    func noChatTemplate() async throws {
        let model = try Self.openCL.get()
        #expect(throws: GenerationError.self) { try model.chatTokens([ChatMessage(role: "user", content: "Hi")]) }
    }
}
