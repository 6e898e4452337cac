/// How the decode GEMV reads its activations x.
///
/// `int8` quantizes x once per matmul (per block of 32: int8 values with a scale, and the exact
/// block sum for the weights' offset term) and runs integer dot products on 4-bit weights: far
/// fewer operations per weight on CPUs, at a small logit error (measured against the float64
/// reference in README.md). `exact` keeps x in fp32. Weights of 5 to 8 bits always read exact x.
public enum GEMVActivations: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case exact
    case int8

    /// The default: integer dots, the faster mode, whose greedy output equals the reference.
    public static let `default` = GEMVActivations.int8

    public var description: String { rawValue }
}
