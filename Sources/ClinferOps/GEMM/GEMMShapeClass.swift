/// The classes of GEMM problems that get their own kernel configuration (tuned separately).
///
/// Layout: `nn` has B stored [K, N]; `nt` has B stored [N, K] (weights). Size: `skinny` is
/// M ≤ ``skinnyMaxM`` (decode: one or a few tokens), `large` everything else.
public enum GEMMShapeClass: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable, Comparable {
    case nnSkinny = "nn.skinny"
    case nnLarge = "nn.large"
    case ntSkinny = "nt.skinny"
    case ntLarge = "nt.large"

    /// The largest M served by the skinny configurations.
    public static let skinnyMaxM = 16

    public init(_ problem: GEMMProblem) {
        let skinny = problem.m <= Self.skinnyMaxM
        self = problem.transposeB ? (skinny ? .ntSkinny : .ntLarge) : (skinny ? .nnSkinny : .nnLarge)
    }

    /// Whether B is stored [N, K].
    public var transposedB: Bool { self == .ntSkinny || self == .ntLarge }

    /// The problems the tuner measures for this class; a configuration is scored by the
    /// geometric mean of its GFLOPS over them, so one lucky shape cannot decide.
    public var tuningProblems: [GEMMProblem] {
        let transposeB = transposedB
        switch self {
        case .nnSkinny, .ntSkinny:
            return [
                GEMMProblem(m: 1, n: 4096, k: 4096, transposeB: transposeB),
                GEMMProblem(m: 8, n: 4096, k: 4096, transposeB: transposeB),
            ]
        case .nnLarge, .ntLarge:
            return [
                GEMMProblem(m: 1024, n: 1024, k: 1024, transposeB: transposeB),
                GEMMProblem(m: 128, n: 4096, k: 4096, transposeB: transposeB),
            ]
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
