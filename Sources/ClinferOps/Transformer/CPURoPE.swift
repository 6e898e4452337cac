/// RoPE on the CPU: the reference for `Kernels/rope.cl`.
public struct CPURoPE: RoPEOperation {
    public let table: RoPETable

    public init(table: RoPETable) { self.table = table }

    public func apply(
        _ problem: RoPEProblem, qkv: HostTensor, q: HostTensor, k: HostTensor, v: HostTensor, qNorm: HostTensor?,
        kNorm: HostTensor?
    ) throws {
        try problem.validate(qkv: qkv, table: table, q: q, k: k, v: v, qNorm: qNorm, kNorm: kNorm)
        let d = problem.headDim, pairs = d / 2
        var input = qkv.floats
        if let eps = problem.headNormEps, let qWeights = qNorm?.floats, let kWeights = kNorm?.floats {
            // Per-head RMSNorm of the Q and K heads before they rotate.
            for t in 0..<problem.tokens {
                for h in 0..<(problem.heads + problem.kvHeads) {
                    let start = t * problem.qkvWidth + h * d, weights = h < problem.heads ? qWeights : kWeights
                    let meanSquare = input[start..<start + d].reduce(Float(0)) { $0 + $1 * $1 } / Float(d)
                    let inverse = 1 / (meanSquare + eps).squareRoot()
                    for i in 0..<d { input[start + i] = input[start + i] * inverse * weights[i] }
                }
            }
        }
        var queries = q.floats, keys = k.takeFloats(), values = v.takeFloats()
        defer {
            k.storage = .float32(keys)
            v.storage = .float32(values)
        }
        for t in 0..<problem.tokens {
            let slot = problem.placement(ofToken: t).slot, position = problem.placement(ofToken: t).position
            for h in 0..<(problem.heads + 2 * problem.kvHeads) {
                let source = t * problem.qkvWidth + h * d
                let kvRow =
                    ((slot * problem.kvHeads + (h - problem.heads) % problem.kvHeads) * problem.kvStride + position) * d
                if h >= problem.heads + problem.kvHeads {
                    for i in 0..<d { values[kvRow + i] = input[source + i] }
                    continue
                }
                for i in 0..<pairs {
                    let (a, b) = problem.neox ? (i, i + pairs) : (2 * i, 2 * i + 1)
                    let c = table.cos[position * pairs + i], s = table.sin[position * pairs + i]
                    let (x0, x1) = (input[source + a], input[source + b])
                    let (r0, r1) = (x0 * c - x1 * s, x0 * s + x1 * c)
                    if h < problem.heads {
                        queries[(t * problem.heads + h) * d + a] = r0
                        queries[(t * problem.heads + h) * d + b] = r1
                    } else {
                        keys[kvRow + a] = r0
                        keys[kvRow + b] = r1
                    }
                }
            }
        }
        q.storage = .float32(queries)
    }
}
