import ArgumentParser
import ClinferOps

/// A GEMM shape given on the command line as `MxNxK` (e.g. `128x4096x4096`).
struct GEMMShape: ExpressibleByArgument, Hashable, CustomStringConvertible {
    var m: Int, n: Int, k: Int

    init(m: Int, n: Int, k: Int) {
        self.m = m
        self.n = n
        self.k = k
    }

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ $0 >= 1 }) else { return nil }
        (m, n, k) = (parts[0], parts[1], parts[2])
    }

    var description: String { "\(m)x\(n)x\(k)" }

    func problem(transposedB: Bool) -> GEMMProblem { GEMMProblem(m: m, n: n, k: k, transposeB: transposedB) }

    /// The shapes `clinfer bench gemm` measures by default.
    static let defaults: [GEMMShape] = [
        .init(m: 256, n: 256, k: 256), .init(m: 512, n: 512, k: 512), .init(m: 1024, n: 1024, k: 1024),
        .init(m: 2048, n: 2048, k: 2048), .init(m: 1, n: 4096, k: 4096), .init(m: 8, n: 4096, k: 4096),
        .init(m: 128, n: 4096, k: 4096), .init(m: 512, n: 4096, k: 4096),
    ]

    /// Parses a comma-separated list.
    static func list(_ text: String) throws -> [GEMMShape] {
        try text.split(separator: ",").map { part in
            guard let shape = GEMMShape(argument: String(part)) else {
                throw ValidationError("'\(part)' is not a shape: write MxNxK, e.g. 128x4096x4096")
            }
            return shape
        }
    }
}

/// Which B layouts to measure: `nn` (B stored [K, N]), `nt` (B stored [N, K], weights), or both.
enum LayoutChoice: String, ExpressibleByArgument, CaseIterable {
    case nn, nt, both

    var transposedB: [Bool] {
        switch self {
        case .nn: [false]
        case .nt: [true]
        case .both: [false, true]
        }
    }
}

func layoutName(_ transposedB: Bool) -> String { transposedB ? "nt" : "nn" }
