import ClinferOps
import OpenCLKit
import Testing
import Foundation

// Temporary timing experiments (not committed).
@Test func scratchAttentionTiming() throws {
    guard ProcessInfo.processInfo.environment["SCRATCH_TIMING"] != nil else { return }
    let backend = try TestDevice.opencl()
    for (batch, seq) in [(4, 128), (32, 16)] {
        let problem = AttentionProblem(batch: batch, heads: 12, seqQ: seq, seqK: seq, headDim: 32, tokenMajor: true, keyLengths: [Int](repeating: seq - 1, count: batch))
        let n = batch * seq * 384
        let q = try DeviceTensor(backend: backend, copying: HostTensor(SplitMix64.floats(n, seed: 1)))
        let k = try DeviceTensor(backend: backend, copying: HostTensor(SplitMix64.floats(n, seed: 2)))
        let v = try DeviceTensor(backend: backend, copying: HostTensor(SplitMix64.floats(n, seed: 3)))
        let o = try DeviceTensor(backend: backend, count: n)
        for (bq, bk) in [(1, 32), (1, 16), (2, 32), (4, 32), (1, 64)] {
            let attention = try OpenCLAttention(backend: backend, queriesPerItem: bq, keysPerTile: bk)
            try attention.encode(problem, q: q, k: k, v: v, mask: nil, o: o).wait()
            var times: [Double] = []
            for _ in 0..<5 { times.append(try attention.encode(problem, q: q, k: k, v: v, mask: nil, o: o).deviceSeconds()) }
            let flops = 4.0 * Double(batch * 12 * seq * seq * 32)
            print("attention b\(batch) seq\(seq) BQ\(bq) BK\(bk): \(median(times) * 1e3) ms, \(flops / median(times) / 1e9) GFLOPS")
        }
    }
}
