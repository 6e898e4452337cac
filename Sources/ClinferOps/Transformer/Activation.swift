/// Elementwise pieces of transformer blocks: SwiGLU over a fused gate+up projection, the exact
/// (erf) GELU, and the residual add. ``OpenCLActivation`` and ``CPUActivation``.
public protocol ActivationOperation: Sendable {
    associatedtype Tensor: TensorOperand
    /// out[t, j] = silu(gateUp[t, j]) · gateUp[t, width + j]; gateUp [tokens, 2·width], out [tokens, width].
    func swiglu(tokens: Int, width: Int, gateUp: Tensor, out: Tensor) throws
    /// x = x · ½(1 + erf(x / √2)), in place.
    func geluErf(_ x: Tensor) throws
    /// x += y.
    func add(_ x: Tensor, _ y: Tensor) throws
}

func validateSwiGLU(tokens: Int, width: Int, gateUp: some TensorOperand, out: some TensorOperand) throws(OpError) {
    guard tokens >= 1, width >= 1 else { throw .invalidArgument(op: "swiglu", detail: "tokens and width must be ≥ 1") }
    try gateUp.requireCount(tokens * 2 * width, op: "swiglu", name: "gateUp")
    try out.requireCount(tokens * width, op: "swiglu", name: "out")
    guard gateUp.elementType == .float32, out.elementType == .float32 else { throw .unsupportedType(op: "swiglu", detail: "operands must be f32") }
}

func validateElementwise(_ op: String, _ operands: any TensorOperand...) throws(OpError) {
    guard let first = operands.first, first.count >= 1 else { throw .invalidArgument(op: op, detail: "empty tensor") }
    for operand in operands {
        try operand.requireCount(first.count, op: op, name: "operand")
        guard operand.elementType == .float32 else { throw .unsupportedType(op: op, detail: "operands must be f32") }
    }
}
