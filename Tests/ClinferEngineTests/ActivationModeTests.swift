import ClinferEngine
import ClinferOps
import Foundation
import Testing

/// The decode GEMV's activation modes (``GEMVActivations``) against the float64 reference
/// (scripts/reference/smollm2_forward.py), every position decoded one token at a time so that
/// every projection runs on the GEMV.
@Suite("Decode activation modes vs the float64 reference", .serialized)
struct ActivationModeTests {
    /// What one mode gives over the golden tokens: the largest |Δlogit| on the reference's
    /// top-10 ids, and the positions whose argmax differs although the reference's top-2 margin
    /// exceeds 0.1.
    static func measure(_ mode: GEMVActivations) throws -> (worst: Double, argmaxMisses: [Int]) {
        let reference = try golden("smollm2-forward.json", as: ForwardGolden.self)
        let model = try LanguageModel(
            path: TestModels.smolLM2, options: .init(backend: .opencl, contextLength: 512, activations: mode))
        let logits = try model.logits(tokens: reference.tokens, chunk: 1)
        var worst = 0.0, misses: [Int] = []
        for (position, expected) in reference.positions.enumerated() {
            for (id, value) in zip(expected.ids, expected.logits) {
                worst = max(worst, abs(Double(logits[position][id]) - value))
            }
            if reference.top2_margin[position] > 0.1, Sampler.argmax(logits[position]) != expected.ids[0] {
                misses.append(position)
            }
        }
        print("activations \(mode): max |Δlogit| \(worst) vs float64, argmax misses \(misses)")
        return (worst, misses)
    }

    @Test("exact activations: |Δ| ≤ 1e-2", .enabled(if: TestModels.required(TestModels.smolLM2)))
    func exact() throws {
        let (worst, misses) = try Self.measure(.exact)
        #expect(worst <= 1e-2)
        #expect(misses.isEmpty)
    }

    /// Measured 1.0e-2 (README): twice that, and the confident argmaxes equal.
    @Test(
        "int16 activations: |Δ| ≤ 2e-2, argmax equal where the margin exceeds 0.1",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func int16() throws {
        let (worst, misses) = try Self.measure(.int16)
        #expect(worst <= 2e-2)
        #expect(misses.isEmpty)
    }

    /// Measured 2.6 (README; llama.cpp's int8 activations are up to 1.6 off on this model).
    @Test("int8 activations: |Δ| ≤ 4", .enabled(if: TestModels.required(TestModels.smolLM2)))
    func int8() throws {
        let (worst, _) = try Self.measure(.int8)
        #expect(worst <= 4)
    }
}
