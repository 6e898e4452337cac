import Foundation

/// Block-sparse attention on the CPU with an exact softmax over each query's visited keys: the
/// reference `Kernels/attention_block_sparse.cl` is tested against.
public struct CPUBlockSparseAttention: BlockSparseAttentionOperation {
    public init() {}

    public func attention(
        _ problem: BlockSparseAttentionProblem, q: HostTensor, k: HostTensor, v: HostTensor, o: HostTensor
    ) throws {
        try problem.validate(q: q, k: k, v: v, o: o)
        let a = problem.attention, mask = problem.mask
        let (queries, keys, values) = (q.floats, k.floats, v.floats)
        let d = a.headDim, group = a.heads / a.kvHeads
        var output = [Float](repeating: 0, count: queries.count)
        output.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            parallelFor(a.batch * a.heads) { pair in
                let (b, h) = pair.quotientAndRemainder(dividingBy: a.heads)
                let kvHead = h / group, kvBase = (b * a.kvHeads + kvHead) * a.kvStride * d
                for i in 0..<a.seqQ {
                    let row = a.queryRow(batch: b, head: h, query: i)
                    var visited: [(key: Int, score: Double)] = []
                    for block in mask.blocks(head: h, queryBlock: i / mask.blockSize) {
                        for j in block * mask.blockSize..<min(a.seqK, (block + 1) * mask.blockSize)
                        where !a.causal || problem.position(kvHead: kvHead, key: j) <= a.offset + i {
                            var dot = 0.0
                            for x in 0..<d {
                                dot += Double(queries[row + x] * a.scale) * Double(keys[kvBase + j * d + x])
                            }
                            visited.append((j, dot))
                        }
                    }
                    guard let top = visited.map(\.score).max() else { continue }
                    let weights = visited.map { exp($0.score - top) }, sum = weights.reduce(0, +)
                    for x in 0..<d {
                        var value = 0.0
                        for (entry, weight) in zip(visited, weights) {
                            value += weight * Double(values[kvBase + entry.key * d + x])
                        }
                        base[row + x] = Float(value / sum)
                    }
                }
            }
        }
        o.storage = .float32(output)
    }

    /// Keys and values reordered per KV head: out[b, h, j] = in[b, h, order[h · seqK + j]]
    /// (rows past seqK, up to kvStride, are kept).
    public func gatherKeys(_ problem: AttentionProblem, order: [Int], from input: HostTensor) -> HostTensor {
        let d = problem.headDim, values = input.floats
        var gathered = values
        for b in 0..<problem.batch {
            for h in 0..<problem.kvHeads {
                let base = (b * problem.kvHeads + h) * problem.kvStride
                for j in 0..<problem.seqK {
                    let from = (base + order[h * problem.seqK + j]) * d, to = (base + j) * d
                    gathered.replaceSubrange(to..<to + d, with: values[from..<from + d])
                }
            }
        }
        return HostTensor(gathered).converted(to: input.elementType)
    }
}
