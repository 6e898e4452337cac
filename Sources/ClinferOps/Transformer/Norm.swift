/// A row normalisation over `rows` rows of `width` values: RMSNorm (Llama family) or LayerNorm
/// (BERT, GPT-2), optionally fused with the residual add before it (x += residual, written back
/// into x, then normalised), which is how transformer blocks use them.
public struct NormProblem: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// out = x / √(mean(x²) + eps) · weight
        case rms
        /// out = (x − mean) / √(var + eps) · weight + bias
        case layer
    }

    public var kind: Kind
    public var rows: Int
    public var width: Int
    public var eps: Float

    public init(_ kind: Kind, rows: Int, width: Int, eps: Float) {
        self.kind = kind
        self.rows = rows
        self.width = width
        self.eps = eps
    }

    func validate(
        x: some TensorOperand, residual: (some TensorOperand)?, weight: some TensorOperand,
        bias: (some TensorOperand)?, out: some TensorOperand
    ) throws(OpError) {
        let op = "\(kind.rawValue) norm"
        guard rows >= 1, width >= 1, eps >= 0, eps.isFinite else {
            throw .invalidArgument(op: op, detail: "rows and width must be ≥ 1 and eps finite and ≥ 0")
        }
        try x.requireCount(rows * width, op: op, name: "x")
        try out.requireCount(rows * width, op: op, name: "out")
        try weight.requireCount(width, op: op, name: "weight")
        if let residual { try residual.requireCount(rows * width, op: op, name: "residual") }
        switch (kind, bias) {
        case (.layer, nil): throw .invalidArgument(op: op, detail: "layer norm needs a bias")
        case (.layer, let bias?): try bias.requireCount(width, op: op, name: "bias")
        case (.rms, _?): throw .invalidArgument(op: op, detail: "RMS norm takes no bias")
        case (.rms, nil): break
        }
        for operand in [x.elementType, weight.elementType, out.elementType, residual?.elementType, bias?.elementType] {
            guard operand == nil || operand == .float32 else {
                throw .unsupportedType(op: op, detail: "every operand must be f32")
            }
        }
    }
}

/// Row normalisation: ``OpenCLNorm`` and ``CPUNorm``.
public protocol NormOperation: Sendable {
    associatedtype Tensor: TensorOperand
    /// out = norm(x [+ residual]); with a residual, x is updated to x + residual first.
    /// `bias` is required for layer norm and absent for RMS norm.
    func normalize(
        _ problem: NormProblem, x: Tensor, residual: Tensor?, weight: Tensor, bias: Tensor?, out: Tensor) throws
}
