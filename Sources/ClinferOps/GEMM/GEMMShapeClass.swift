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

    /// The problem the tuner measures for this class.
    public var tuningProblem: GEMMProblem {
        switch self {
        case .nnSkinny: GEMMProblem(m: 1, n: 4096, k: 4096)
        case .nnLarge: GEMMProblem(m: 1024, n: 1024, k: 1024)
        case .ntSkinny: GEMMProblem(m: 1, n: 4096, k: 4096, transposeB: true)
        case .ntLarge: GEMMProblem(m: 1024, n: 1024, k: 1024, transposeB: true)
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
