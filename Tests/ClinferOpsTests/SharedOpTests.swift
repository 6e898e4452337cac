import ClinferOps
import Dispatch
import Synchronization
import Testing

/// One op object used by several threads at once: an op's scratch memory is reused across calls,
/// so each caller must hold it from the first to the last command that uses it. Without that,
/// thread B's pack (or split) kernel lands between thread A's pack and A's GEMM (or merge) on the
/// shared queue, and A reads B's data.
@Suite("One op shared by threads")
struct SharedOpTests {
    @Test("threads sharing a GEMM's packed-B scratch each get their own product")
    func gemmScratch() throws {
        let backend = try TestDevice.opencl()
        let gemm = OpenCLGEMM(backend: backend)
        let problem = GEMMProblem(m: 33, n: 40, k: 57)
        let config = GEMMKernelConfig.tiled(GEMMTileConfig(tm: 4, tn: 3, vw: 8, wgm: 8, wgn: 1, packB: true))
        let errors = Mutex<[Float]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            let error =
                (try? Self.repeatedGEMMError(problem, config: config, gemm: gemm, seed: UInt64(thread * 7 + 1)))
                ?? .infinity
            errors.withLock { $0.append(error) }
        }
        let all = errors.withLock { $0 }
        #expect(all.count == 4)
        #expect(all.allSatisfy { $0 < 1e-4 }, "max relative errors \(all)")
    }

    @Test("threads sharing a split-K decode attention's partial buffers each get their own output")
    func attentionScratch() throws {
        let backend = try TestDevice.opencl()
        let attention = try OpenCLAttention(backend: backend, keysPerSplit: 16)
        let problem = AttentionProblem(heads: 3, kvHeads: 1, seqQ: 1, seqK: 133, headDim: 32)
        let errors = Mutex<[Float]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            var worst: Float = 0
            for round in 0..<6 {
                let error =
                    (try? attentionError(problem, attention: attention, splits: 9, seed: UInt64(thread * 100 + round)))
                    ?? .infinity
                worst = max(worst, error)
            }
            errors.withLock { $0.append(worst) }
        }
        let all = errors.withLock { $0 }
        #expect(all.count == 4)
        #expect(all.allSatisfy { $0 < 1e-4 }, "max relative errors \(all)")
    }

    /// The worst relative error of 40 products of one thread's own operands, each enqueued and
    /// read back while other threads do the same on the same op.
    private static func repeatedGEMMError(
        _ problem: GEMMProblem, config: GEMMKernelConfig, gemm: OpenCLGEMM, seed: UInt64
    ) throws -> Float {
        let backend = gemm.backend
        let a = HostTensor(randomFloats(problem.m * problem.k, seed: seed))
        let b = HostTensor(randomFloats(problem.k * problem.n, seed: seed + 1))
        let reference = HostTensor(zeros: problem.m * problem.n)
        try CPUGEMM().gemm(problem, a: a, b: b, c: reference)
        let deviceA = try DeviceTensor(backend: backend, copying: a),
            deviceB = try DeviceTensor(backend: backend, copying: b)
        var worst: Float = 0
        for _ in 0..<40 {
            let c = try DeviceTensor(backend: backend, count: problem.m * problem.n)
            try gemm.encode(problem, a: deviceA, b: deviceB, c: c, config: config)
            worst = max(worst, relativeError(try c.download(backend.queue).floats, reference.floats))
        }
        return worst
    }
}
