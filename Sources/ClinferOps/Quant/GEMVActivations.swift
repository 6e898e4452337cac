/// How the decode GEMV reads its activations x for 4-bit weights.
///
/// `int16` and `int8` quantize x once per matmul (per block of 32: integers with a scale, and
/// the exact block sum for the weights' offset term) and run integer dot products
/// (`Kernels/quant_gemv_dot.cl`): far fewer operations per weight on CPUs. int8 is the fastest
/// and moves logits the most; int16 keeps 16 bits of each block's range. `exact` keeps x in fp32
/// (`Kernels/quant_gemv.cl`). The measured logit error of each mode against the float64
/// reference is in README.md. Weights of 5 to 8 bits always read exact x.
public enum GEMVActivations: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case exact
    case int16
    case int8

    /// The default: exact. The integer modes make a token's logits depend slightly on how it was
    /// batched (a prompt of more than 16 tokens runs the exact GEMM, a decode row the GEMV, and a
    /// tiny upstream difference can flip a rounding of x), so greedy output could differ between
    /// a sequence generated alone and one batched with others; exact keeps them equal.
    public static let `default` = GEMVActivations.exact

    /// Bits of quantized x (nil for exact fp32).
    public var bits: Int? {
        switch self {
        case .exact: nil
        case .int16: 16
        case .int8: 8
        }
    }

    public var description: String { rawValue }
}
