import ClinferEngine
import ClinferOps
import Foundation
import Testing

/// The reference forward pass (float64 numpy over the `gguf` package's dequantized tensors,
/// scripts/reference/smollm2_forward.py): per position, the top-10 ids and their logits.
struct ForwardGolden: Decodable {
    struct Position: Decodable { let ids: [Int]; let logits: [Double] }
    let tokens: [Int]
    let positions: [Position]
    let greedy: [Int]
    let top2_margin: [Double]
}

@Suite("SmolLM2 forward pass: OpenCL, CPU and the float64 reference", .serialized)
struct LlamaForwardTests {
    /// Tolerances: against the float64 reference, |Δlogit| ≤ 1e-2 on its top-10 ids (our fp32
    /// accumulation over 30 layers); OpenCL against CPU, |Δlogit| ≤ 1e-2 over the whole vocabulary.
    static let referenceTolerance = 1e-2, backendTolerance: Float = 1e-2

    @Test(
        "teacher-forced logits match the float64 reference on both backends: |Δ| ≤ 1e-2, same argmax everywhere",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func matchesReference() throws {
        let reference = try golden("smollm2-forward.json", as: ForwardGolden.self)
        for model in [try TestModels.openCLModel.get(), try TestModels.cpuModel.get()] {
            let logits = try model.logits(tokens: reference.tokens)
            #expect(logits.count == reference.positions.count)
            for (position, expected) in reference.positions.enumerated() {
                let row = logits[position]
                for (id, value) in zip(expected.ids, expected.logits) {
                    #expect(
                        abs(Double(row[id]) - value) <= Self.referenceTolerance,
                        "\(model.deviceName) position \(position) id \(id): \(row[id]) vs \(value)")
                }
                #expect(Sampler.argmax(row) == expected.ids[0], "\(model.deviceName) argmax at position \(position)")
            }
        }
    }

    @Test(
        "OpenCL and CPU logits agree over the whole vocabulary (|Δ| ≤ 1e-2)",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func backendsAgree() async throws {
        let tokens = try golden("smollm2-forward.json", as: ForwardGolden.self).tokens
        // The async form: the work runs between decode rounds and no thread waits for it.
        let device = try await TestModels.openCLModel.get().logits(tokens: tokens),
            host = try await TestModels.cpuModel.get().logits(tokens: tokens)
        var worst: Float = 0
        for (a, b) in zip(device, host) { for (x, y) in zip(a, b) { worst = max(worst, abs(x - y)) } }
        #expect(worst <= Self.backendTolerance, "max |Δlogit| \(worst)")
    }

    @Test(
        "decoding token by token gives the logits of one prefill (cache, split-KV and GEMV paths)",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func decodeMatchesPrefill() throws {
        let model = try TestModels.openCLModel.get()
        let tokens = Array(try golden("smollm2-forward.json", as: ForwardGolden.self).tokens.prefix(12))
        let prefill = try model.logits(tokens: tokens)
        let stepwise = try model.logits(tokens: tokens, chunk: 1)
        var worst: Float = 0
        for (a, b) in zip(prefill, stepwise) { for (x, y) in zip(a, b) { worst = max(worst, abs(x - y)) } }
        #expect(worst <= 1e-2, "max |Δlogit| \(worst)")
    }

    @Test(
        "greedy generation follows the reference until its top-2 margin drops below twice the tolerance, and repeats exactly",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func greedyGeneration() async throws {
        let reference = try golden("smollm2-forward.json", as: ForwardGolden.self)
        let promptLength = reference.tokens.count - 8  // the golden file appends the reference's first 8 greedy tokens
        let prompt = Array(reference.tokens.prefix(promptLength))
        for model in [try TestModels.openCLModel.get(), try TestModels.cpuModel.get()] {
            let first = try await model.generate(tokens: prompt, parameters: .greedy(maxTokens: 8)).collect()
            let second = try await model.generate(tokens: prompt, parameters: .greedy(maxTokens: 8)).collect()
            #expect(first.tokens == second.tokens, "greedy decoding is deterministic")
            for (step, token) in first.tokens.enumerated() {
                let position = promptLength - 1 + step
                guard reference.top2_margin[position] >= 2 * Self.referenceTolerance else { break }
                #expect(token == reference.greedy[position], "\(model.deviceName) step \(step)")
            }
        }
    }

    @Test(
        "a prompt longer than the context is a typed error; bad token ids too",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func contextErrors() async throws {
        let model = try TestModels.openCLModel.get()
        await #expect(throws: GenerationError.self) {
            _ = try await model.generate(tokens: Array(repeating: 28, count: model.contextLength + 5)).collect()
        }
        #expect(throws: GenerationError.self) { _ = try model.logits(tokens: [model.configuration.vocabularySize]) }
        #expect(throws: GenerationError.self) { _ = try model.logits(tokens: []) }
        await #expect(throws: GenerationError.self) {
            _ = try await model.generate(tokens: [1], parameters: GenerationParameters(topP: 0)).collect()
        }
    }
}
