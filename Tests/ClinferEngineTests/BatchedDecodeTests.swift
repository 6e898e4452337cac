import ClinferEngine
import ClinferOps
import Foundation
import Testing

/// Continuous batching's core: one decode step over several sequences of a KV-cache pool must
/// give each sequence what decoding it alone gives.
@Suite("Batched decode over a KV-cache pool", .serialized)
struct BatchedDecodeTests {
    /// The same weights on one backend, a 4-slot pool for the batch and a cache per sequence alone.
    static func compare<Ops: TransformerOps>(on backend: Ops) throws -> Float {
        let model = try TestModels.smolLM2Model(on: backend)
        let prompts = [
            [1, 504, 3458, 282, 4649, 314], [1, 9690], [1, 2683, 416, 253, 1933, 30, 1230, 28, 339, 2476, 30],
        ]
        let slots = [2, 0, 3]  // out of order, slot 1 idle
        let pool = try model.makeCache(sequences: 4)
        let alone = try prompts.map { _ in try model.makeCache() }
        var next: [Int] = []
        for (index, prompt) in prompts.enumerated() {
            let pooled = try model.forward(prompt, cache: pool, slot: slots[index])
            let single = try model.forward(prompt, cache: alone[index])
            #expect(maxDifference(pooled, single) <= 1e-4, "prefill into slot \(slots[index])")
            next.append(Sampler.argmax(single))
        }
        var worst: Float = 0
        for _ in 0..<4 {
            let batched = try model.decode(next, slots: slots, cache: pool)
            for index in prompts.indices {
                let single = try model.forward([next[index]], cache: alone[index])
                worst = max(worst, maxDifference(batched[index], single))
                next[index] = Sampler.argmax(single)
            }
        }
        #expect(pool.lengths == [prompts[1].count + 4, 0, prompts[0].count + 4, prompts[2].count + 4])
        #expect(throws: GenerationError.self) { try model.decode([1, 2], slots: [0, 0], cache: pool) }
        #expect(throws: GenerationError.self) { try model.decode([1], slots: [4], cache: pool) }

        // Batched prefill: runs of different lengths after different cache lengths (an empty
        // slot, and two that continue) in one pass give each run's own prefill logits.
        let runs = [
            (tokens: [1, 2683, 416, 253, 1933, 30, 1230], slot: 1), (tokens: [28, 339], slot: 0),
            (tokens: [2476, 30, 504], slot: 3),
        ]
        let batched = try model.prefill(runs, cache: pool)
        // Each slot's own cache: slot 1 starts empty, slot 0 holds prompt 1's sequence, slot 3 prompt 2's.
        let own = [1: try model.makeCache(), 0: alone[1], 3: alone[2]]
        for (index, run) in runs.enumerated() {
            let single = try model.forward(run.tokens, cache: own[run.slot]!)
            worst = max(worst, maxDifference(batched[index], single))
        }
        #expect(pool.lengths == [prompts[1].count + 6, 7, prompts[0].count + 4, prompts[2].count + 7])
        #expect(throws: GenerationError.self) {
            try model.prefill([(tokens: [1], slot: 0), (tokens: [2], slot: 0)], cache: pool)
        }
        #expect(throws: GenerationError.self) { try model.prefill([(tokens: [], slot: 0)], cache: pool) }
        return worst
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }

    @Test(
        "each sequence of a batched step or prefill gets the logits of its own pass (OpenCL: |Δ| ≤ 1e-3)",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func openCL() throws {
        guard case .opencl(let device) = try ComputeTarget.select(.opencl) else {
            Issue.record("no OpenCL device"); return
        }
        let worst = try Self.compare(on: try OpenCLTransformerOps(backend: device))
        #expect(worst <= 1e-3, "max |Δlogit| \(worst)")
    }

    @Test(
        "each sequence of a batched step or prefill gets the logits of its own pass (CPU: |Δ| ≤ 1e-3)",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func cpu() throws {
        let worst = try Self.compare(on: CPUTransformerOps())
        #expect(worst <= 1e-3, "max |Δlogit| \(worst)")
    }
}
