import Foundation

/// Attention on the CPU, materialising each query's scores (exact softmax with its maximum): the
/// reference the fused kernels are tested against.
public struct CPUAttention: AttentionOperation {
    public init() {}

    public func attention(
        _ problem: AttentionProblem, q: HostTensor, k: HostTensor, v: HostTensor, mask: HostTensor?, o: HostTensor
    ) throws {
        try problem.validate(q: q, k: k, v: v, mask: mask, o: o)
        let (queries, keys, values, additive) = (q.floats, k.floats, v.floats, mask?.floats)
        let d = problem.headDim, group = problem.heads / problem.kvHeads
        var output = [Float](repeating: 0, count: queries.count)
        // (batch, head) pairs write disjoint output rows: spread them over the cores.
        output.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            parallelFor(problem.batch * problem.heads) { pair in
                let (b, h) = pair.quotientAndRemainder(dividingBy: problem.heads)
                let kvBase = (problem.kvSequence(batch: b) * problem.kvHeads + h / group) * problem.kvStride * d
                for i in 0..<problem.seqQ {
                    let row = problem.queryRow(batch: b, head: h, query: i)
                    var scores = [Double](repeating: -.infinity, count: problem.seqK)
                    for j in 0..<problem.validKeys(batch: b) where problem.sees(batch: b, query: i, key: j) {
                        var dot = 0.0
                        for x in 0..<d {
                            dot += Double(queries[row + x] * problem.scale) * Double(keys[kvBase + j * d + x])
                        }
                        scores[j] = dot + Double(additive?[i * problem.seqK + j] ?? 0)
                    }
                    let top = scores.max()!
                    guard top > -3e38 else { continue }
                    let weights = scores.map { $0 > -3e38 ? exp($0 - top) : 0 }
                    let sum = weights.reduce(0, +)
                    for x in 0..<d {
                        var value = 0.0
                        for j in 0..<problem.seqK where weights[j] > 0 {
                            value += weights[j] * Double(values[kvBase + j * d + x])
                        }
                        base[row + x] = Float(value / sum)
                    }
                }
            }
        }
        o.storage = .float32(output)
    }
}
