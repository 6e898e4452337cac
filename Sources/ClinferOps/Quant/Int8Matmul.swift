/// LLM.int8() (Dettmers et al., 2022): y[M, N] = x[M, K] · Wᵀ with int8 weights and activations
/// quantized per row on the fly, int32 accumulation, and mixed-precision decomposition: every
/// activation column holding a value with |x| ≥ `threshold` is kept out of the int8 product and
/// multiplied in fp32 with the dequantized int8 weights (as bitsandbytes does at inference).
/// A threshold of 0 disables the decomposition.
public protocol Int8MatmulOperation: Sendable {
    associatedtype Tensor: TensorOperand
    associatedtype Weights
    func matmul(x: Tensor, weights: Weights, y: Tensor, rows: Int, threshold: Float) throws
}

extension Int8MatmulOperation {
    /// With the paper's default threshold, 6.0.
    public func matmul(x: Tensor, weights: Weights, y: Tensor, rows: Int) throws {
        try matmul(x: x, weights: weights, y: y, rows: rows, threshold: 6)
    }
}

func validateInt8Matmul(
    x: some TensorOperand, y: some TensorOperand, rows: Int, n: Int, k: Int, threshold: Float
) throws(OpError) {
    try validateQuantizedMatmul(x: x, y: y, rows: rows, n: n, k: k)
    guard x.elementType == .float32 else {
        throw .unsupportedType(op: "int8 matmul", detail: "x must be f32, got \(x.elementType)")
    }
    guard threshold >= 0, threshold.isFinite else {
        throw .invalidArgument(op: "int8 matmul", detail: "threshold must be ≥ 0, got \(threshold)")
    }
}

/// The CPU implementation, the reference for the kernels (same rounding, int32 sums).
public struct CPUInt8Matmul: Int8MatmulOperation {
    public init() {}

    public func matmul(x: HostTensor, weights: Int8Matrix, y: HostTensor, rows: Int, threshold: Float) throws {
        let (n, k) = (weights.rows, weights.columns)
        try validateInt8Matmul(x: x, y: y, rows: rows, n: n, k: k, threshold: threshold)
        let input = x.floats
        let outliers =
            threshold > 0
            ? (0..<k).filter { column in (0..<rows).contains { abs(input[$0 * k + column]) >= threshold } } : []
        let isOutlier = Set(outliers)
        var output = [Float](repeating: 0, count: rows * n)
        for m in 0..<rows {
            let row = input[m * k..<(m + 1) * k]
            let kept = row.indices.filter { !isOutlier.contains($0 - m * k) }
            let scale = kept.reduce(Float(0)) { max($0, abs(input[$1])) } / 127
            var qx = int8Quantize(row, scale: scale)
            for column in outliers { qx[column] = 0 }
            for column in 0..<n {
                var dot: Int32 = 0
                for i in 0..<k { dot &+= Int32(qx[i]) * Int32(weights.quants[column * k + i]) }
                let outlierSum = outliers.reduce(Float(0)) {
                    $0 + input[m * k + $1] * Float(weights.quants[column * k + $1])
                }
                output[m * n + column] = weights.scales[column] * (scale * Float(dot) + outlierSum)
            }
        }
        y.storage = .float32(output)
    }
}
