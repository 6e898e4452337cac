import ClinferEngine
import ClinferOps
import Dispatch
import Synchronization
import Testing

/// A model is Sendable: several threads may run forward passes on it at once, each on its own KV
/// cache. Passes of one token count share their activations, so the model runs them one at a
/// time; without that, two same-sized prompts overwrite each other's activations mid-pass.
@Suite("One model shared by threads", .serialized)
struct SharedModelTests {
    @Test(
        "concurrent forward passes on their own caches give the logits of sequential ones (OpenCL: |Δ| ≤ 1e-4)",
        .enabled(if: TestModels.required(TestModels.smolLM2)))
    func concurrentForwardPasses() throws {
        guard case .opencl(let device) = try ComputeTarget.select(.opencl) else {
            Issue.record("no OpenCL device"); return
        }
        let model = try TestModels.smolLM2Model(on: try OpenCLTransformerOps(backend: device))
        // Same length, different tokens: every pass uses the workspace of 6 tokens.
        let prompts = [[1, 504, 3458, 282, 4649, 314], [1, 9690, 28, 339, 2476, 30], [1, 2683, 416, 253, 1933, 30]]
        let expected = try prompts.map { prompt -> [[Float]] in
            let cache = try model.makeCache()
            return [try model.forward(prompt, cache: cache), try model.forward([42], cache: cache)]
        }
        let worst = Mutex<Float>(0)
        DispatchQueue.concurrentPerform(iterations: prompts.count) { index in
            var difference: Float = .infinity
            if let cache = try? model.makeCache(), let prefill = try? model.forward(prompts[index], cache: cache),
                let step = try? model.forward([42], cache: cache)
            {
                difference = max(
                    Self.maxDifference(prefill, expected[index][0]), Self.maxDifference(step, expected[index][1]))
            }
            worst.withLock { $0 = max($0, difference) }
        }
        let found = worst.withLock { $0 }
        #expect(found <= 1e-4, "max |Δlogit| \(found)")
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        a.count == b.count ? zip(a, b).map { abs($0 - $1) }.max() ?? .infinity : .infinity
    }
}
