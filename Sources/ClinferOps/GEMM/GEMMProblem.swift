/// One matrix multiplication `C = alpha·op(A)·op(B) + beta·C`, row-major.
///
/// `op(A)` is M×K (A stored [M, K], or [K, M] when `transposeA`); `op(B)` is K×N (B stored
/// [K, N], or [N, K] when `transposeB`, the layout of weight matrices). C is M×N, fp32.
/// With `beta == 0` C's previous contents are ignored (NaN included), as in BLAS.
public struct GEMMProblem: Sendable, Hashable, CustomStringConvertible {
    public var m: Int
    public var n: Int
    public var k: Int
    public var transposeA: Bool
    public var transposeB: Bool
    public var alpha: Float
    public var beta: Float

    public init(
        m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false, alpha: Float = 1, beta: Float = 0
    ) {
        self.m = m
        self.n = n
        self.k = k
        self.transposeA = transposeA
        self.transposeB = transposeB
        self.alpha = alpha
        self.beta = beta
    }

    /// Floating-point operations of one run (2·M·N·K).
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    public var description: String { "\(m)x\(n)x\(k)\(transposeA ? " Aᵀ" : "")\(transposeB ? " Bᵀ" : "")" }

    /// Checks dimensions and operand sizes; every backend calls this before doing any work.
    public func validate(a: some TensorOperand, b: some TensorOperand, c: some TensorOperand) throws(OpError) {
        guard m >= 1, n >= 1, k >= 1 else {
            throw .invalidArgument(op: "gemm", detail: "dimensions must be at least 1, got \(m)x\(n)x\(k)")
        }
        // Kernels index with 32-bit ints.
        let limit = Int(Int32.max)
        guard m.multipliedReportingOverflow(by: k).partialValue <= limit,
            k.multipliedReportingOverflow(by: n).partialValue <= limit,
            m.multipliedReportingOverflow(by: n).partialValue <= limit, m <= limit, n <= limit, k <= limit
        else {
            throw .invalidArgument(op: "gemm", detail: "\(m)x\(n)x\(k) has operands over 2^31 elements")
        }
        try a.requireCount(m * k, op: "gemm", name: "A")
        try b.requireCount(k * n, op: "gemm", name: "B")
        try c.requireCount(m * n, op: "gemm", name: "C")
        guard c.elementType == .float32 else {
            throw .unsupportedType(op: "gemm", detail: "C must be f32, got \(c.elementType)")
        }
    }
}

/// The GEMM op family: one protocol, an OpenCL implementation (``OpenCLGEMM``) and a CPU one
/// (``CPUGEMM``), which tests hold to each other.
public protocol GEMMOperation: Sendable {
    associatedtype Tensor: TensorOperand
    /// Computes `C = alpha·op(A)·op(B) + beta·C`. A and B may be f32 or f16; C is f32.
    func gemm(_ problem: GEMMProblem, a: Tensor, b: Tensor, c: Tensor) throws
}
