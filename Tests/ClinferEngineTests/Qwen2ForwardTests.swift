import ClinferEngine
import ClinferOps
import Foundation
import Testing

/// Qwen2 on a tiny synthetic file (scripts/reference/qwen2_tiny.py: random weights, Q/K/V
/// biases, Q8_0 projections, a separate F32 head, the `qwen2` pre-tokenizer) against its float64
/// reference forward, which llama.cpp also agrees with (min cosine 0.99987 over 12 positions, its int8
/// activations account for the rest).
@Suite("Qwen2 (synthetic) forward pass: OpenCL, CPU and the float64 reference")
struct Qwen2ForwardTests {
    struct Golden: Decodable {
        let tokens: [Int]
        let logits: [[Double]]
    }

    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden/qwen2-tiny.gguf").path

    @Test("every logit of 12 teacher-forced positions within 1e-3 of the reference on both backends")
    func matchesReference() throws {
        let reference = try golden("qwen2-tiny-forward.json", as: Golden.self)
        let c = try DecoderConfiguration(gguf: GGUFFile(path: Self.path))
        #expect(c.architecture == "qwen2" && c.qkvBias && c.ropeNeox && c.headDim == 16 && c.vocabularySize == 256)
        let backend = try #require(try OpenCLBackend.make(), "no OpenCL device")
        let openCL = try TestModels.smolLM2Model(
            on: try OpenCLTransformerOps(backend: backend), maxPositions: 32, path: Self.path)
        let cpu = try TestModels.smolLM2Model(on: CPUTransformerOps(), maxPositions: 32, path: Self.path)
        for model in [openCL.forwardAll, cpu.forwardAll] {
            let logits = try model(reference.tokens)
            var worst = 0.0
            for (position, row) in reference.logits.enumerated() {
                for (id, value) in row.enumerated() {
                    worst = max(worst, abs(Double(logits[position * 256 + id]) - value))
                }
            }
            #expect(worst <= 1e-3, "max |Δ| \(worst)")
        }
        // Token by token through the decode path (GEMV with biases, split attention).
        let cache = try openCL.makeCache(capacity: 32)
        var worst = 0.0
        for (position, token) in reference.tokens.enumerated() {
            let row = try openCL.forward([token], cache: cache)
            for (id, value) in reference.logits[position].enumerated() {
                worst = max(worst, abs(Double(row[id]) - value))
            }
        }
        #expect(worst <= 1e-3, "decode max |Δ| \(worst)")
    }

    @Test("the file's tokenizer uses the qwen2 split")
    func tokenizer() throws {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: Self.path))
        #expect(tokenizer.preTokenizer == .qwen2)
        // No merges: one byte token per byte, digits apart.
        #expect(tokenizer.encode("a12", addSpecialPrefix: false).count == 3)
    }
}

extension DecoderModel {
    /// Every position's logits of one prefill into a fresh cache.
    fileprivate func forwardAll(_ tokens: [Int]) throws -> [Float] {
        try forward(tokens, cache: makeCache(capacity: 32), logits: .all)
    }
}
