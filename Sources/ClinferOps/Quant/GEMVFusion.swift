import OpenCLKit

/// What the decode GEMV (`Kernels/quant_gemv_dot.cl`) does around its matmul, so that a
/// transformer block's decode step needs fewer launches: the RMSNorm of x as its prologue (x is
/// then the raw residual stream), and adding its result into y as its epilogue (y is the
/// residual stream).
public struct GEMVFusion: Sendable {
    /// The RMSNorm applied to x first: its weight [K] and epsilon.
    public var norm: (weight: DeviceTensor, eps: Float)?
    /// y += x·Wᵀ instead of y = x·Wᵀ.
    public var residual: Bool

    public init(norm: (weight: DeviceTensor, eps: Float)? = nil, residual: Bool = false) {
        self.norm = norm
        self.residual = residual
    }
}
