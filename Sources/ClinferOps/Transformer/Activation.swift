import Foundation

/// Elementwise pieces of transformer blocks: the gated activation (SwiGLU, GeGLU) over a fused
/// gate+up projection, the exact
/// (erf) GELU, the residual add, and the bias of linear layers (alone or fused with GELU).
/// ``OpenCLActivation`` and ``CPUActivation``.
public protocol ActivationOperation: Sendable {
    associatedtype Tensor: TensorOperand
    /// out[t, j] = gate(gateUp[t, j]) · gateUp[t, width + j]; gateUp [tokens, 2·width], out
    /// [tokens, width]: the gated feed-forward's activation (SwiGLU, GeGLU).
    func gated(_ gate: GatedActivation, tokens: Int, width: Int, gateUp: Tensor, out: Tensor) throws
    /// x = x · ½(1 + erf(x / √2)), in place.
    func geluErf(_ x: Tensor) throws
    /// x += y.
    func add(_ x: Tensor, _ y: Tensor) throws
    /// x[r, j] += bias[j] for x [rows, n], bias [n] (rows = x.count / n): a linear layer's bias.
    func biasAdd(_ x: Tensor, bias: Tensor) throws
    /// x[r, j] = gelu(x[r, j] + bias[j]) with the exact (erf) GELU: BERT's feed-forward activation.
    func biasGeluErf(_ x: Tensor, bias: Tensor) throws
}

/// The gate of a gated feed-forward (GLU variant): out = gate(x·G) ⊙ (x·U).
public enum GatedActivation: Int, Sendable, Hashable, CaseIterable, Codable {
    /// SiLU, g / (1 + e^−g): SwiGLU (Llama, Qwen2, SmolLM2).
    case silu = 1
    /// The tanh approximation of GELU, ½g(1 + tanh(√(2/π)(g + 0.044715g³))): GeGLU (Gemma).
    case geluTanh = 2

    /// The gate applied to one value, in fp32 as the kernels compute it.
    public func callAsFunction(_ g: Float) -> Float {
        switch self {
        case .silu: return g / (1 + Foundation.exp(-g))
        case .geluTanh:
            let u = 0.797_884_560_802_865_4 * (g + 0.044715 * g * g * g)
            return 0.5 * g * (2 - 2 / (Foundation.exp(2 * u) + 1))
        }
    }
}

extension ActivationOperation {
    /// out[t, j] = silu(gateUp[t, j]) · gateUp[t, width + j].
    public func swiglu(tokens: Int, width: Int, gateUp: Tensor, out: Tensor) throws {
        try gated(.silu, tokens: tokens, width: width, gateUp: gateUp, out: out)
    }
}

func validateSwiGLU(tokens: Int, width: Int, gateUp: some TensorOperand, out: some TensorOperand) throws(OpError) {
    guard tokens >= 1, width >= 1 else { throw .invalidArgument(op: "swiglu", detail: "tokens and width must be ≥ 1") }
    try gateUp.requireCount(tokens * 2 * width, op: "swiglu", name: "gateUp")
    try out.requireCount(tokens * width, op: "swiglu", name: "out")
    guard gateUp.elementType == .float32, out.elementType == .float32 else {
        throw .unsupportedType(op: "swiglu", detail: "operands must be f32")
    }
}

/// The rows of x [rows, n] a bias [n] broadcasts over.
func validateBias(_ op: String, x: some TensorOperand, bias: some TensorOperand) throws(OpError) -> Int {
    guard bias.count >= 1, x.count >= 1 else { throw .invalidArgument(op: op, detail: "empty tensor") }
    guard x.count % bias.count == 0 else {
        throw .shapeMismatch(op: op, detail: "x has \(x.count) elements, not a multiple of the bias's \(bias.count)")
    }
    guard x.elementType == .float32, bias.elementType == .float32 else {
        throw .unsupportedType(op: op, detail: "operands must be f32")
    }
    return x.count / bias.count
}

func validateElementwise(_ op: String, _ operands: any TensorOperand...) throws(OpError) {
    guard let first = operands.first, first.count >= 1 else { throw .invalidArgument(op: op, detail: "empty tensor") }
    for operand in operands {
        try operand.requireCount(first.count, op: op, name: "operand")
        guard operand.elementType == .float32 else { throw .unsupportedType(op: op, detail: "operands must be f32") }
    }
}
