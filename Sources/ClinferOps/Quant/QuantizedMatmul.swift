/// Matrix products with quantized weights, y[M, N] = x[M, K] · Wᵀ, W quantized [N, K]: the
/// decode hot path (M = 1) and prefill (M large) of every linear layer.
///
/// One protocol, an OpenCL implementation (``OpenCLQuantizedMatmul``, the GEMM kernels reading
/// quantized B) and a CPU one (``CPUQuantizedMatmul``: dequantize, then fp32 GEMM).
public protocol QuantizedMatmulOperation: Sendable {
    associatedtype Tensor: TensorOperand
    associatedtype Weights
    /// Computes y = x · Wᵀ for `rows` rows of x (M). With a folded input scale, x is divided by it.
    func matmul(x: Tensor, weights: Weights, y: Tensor, rows: Int) throws
}

/// Checks the operands of a quantized matmul.
func validateQuantizedMatmul(x: some TensorOperand, y: some TensorOperand, rows: Int, n: Int, k: Int) throws(OpError) {
    guard rows >= 1 else { throw .invalidArgument(op: "quantized matmul", detail: "M must be at least 1, got \(rows)") }
    try x.requireCount(rows * k, op: "quantized matmul", name: "x")
    try y.requireCount(rows * n, op: "quantized matmul", name: "y")
    guard y.elementType == .float32 else {
        throw .unsupportedType(op: "quantized matmul", detail: "y must be f32, got \(y.elementType)")
    }
}

/// The CPU reference: dequantize the weights, then fp32 GEMM with B stored [N, K].
public struct CPUQuantizedMatmul: QuantizedMatmulOperation {
    public init() {}

    public func matmul(x: HostTensor, weights: QuantizedMatrix, y: HostTensor, rows: Int) throws {
        try validateQuantizedMatmul(x: x, y: y, rows: rows, n: weights.rows, k: weights.columns)
        var input = x
        if let scale = weights.inputScale {
            var values = x.floats
            for index in values.indices { values[index] /= scale[index % weights.columns] }
            input = HostTensor(values)
        }
        try CPUGEMM().gemm(
            GEMMProblem(m: rows, n: weights.rows, k: weights.columns, transposeB: true),
            a: input, b: HostTensor(weights.dequantized()), c: y)
    }
}
