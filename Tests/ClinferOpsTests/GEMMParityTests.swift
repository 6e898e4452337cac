import ClinferOps
import OpenCLKit
import Testing

/// OpenCL GEMM against the CPU GEMM, on odd shapes, every layout, every kernel path.
@Suite("GEMM parity: OpenCL vs CPU")
struct GEMMParityTests {
    /// fp32 sums of up to 1000 terms in different orders: 1e-5 of the largest output is ample
    /// (observed ≈ 1e-7) and far below the error of any indexing mistake.
    static let tolerance: Float = 1e-5

    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 7, 33), (7, 33, 1), (33, 1, 7), (1000, 7, 33), (7, 1000, 33), (33, 7, 1000),
        (17, 65, 129), (16, 100, 48), (3, 1000, 64), (64, 64, 64), (129, 31, 67),
    ]

    /// Runs `problem` on both backends and returns the relative error of OpenCL vs CPU.
    static func compare(
        _ problem: GEMMProblem, config: GEMMKernelConfig? = nil, aType: ElementType = .float32,
        bType: ElementType = .float32
    ) throws -> Float {
        try gemmError(problem, config: config, aType: aType, bType: bType, backend: TestDevice.opencl())
    }

    @Test("planned path, all four layouts", arguments: shapes)
    func plannedPath(shape: (Int, Int, Int)) throws {
        for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
            let problem = GEMMProblem(
                m: shape.0, n: shape.1, k: shape.2, transposeA: transposeA, transposeB: transposeB)
            let error = try Self.compare(problem)
            #expect(error <= Self.tolerance, "\(problem): relative error \(error)")
        }
    }

    static let tiledConfigs: [GEMMTileConfig] = [
        GEMMTileConfig(tm: 8, tn: 2, vw: 16, wgm: 8, wgn: 1),
        GEMMTileConfig(tm: 3, tn: 1, vw: 1, wgm: 2, wgn: 3),
        GEMMTileConfig(tm: 4, tn: 2, vw: 4, wgm: 4, wgn: 2),
        GEMMTileConfig(tm: 4, tn: 4, vw: 8, wgm: 8, wgn: 2, useLocal: true, kwg: 16),
        GEMMTileConfig(tm: 2, tn: 3, vw: 2, wgm: 4, wgn: 4, useLocal: true, kwg: 6),
        GEMMTileConfig(tm: 4, tn: 3, vw: 8, wgm: 8, wgn: 1, packB: true),
    ]

    @Test("tiled kernel, NN and NT, local staging on and off", arguments: tiledConfigs)
    func tiled(config: GEMMTileConfig) throws {
        for shape in Self.shapes {
            for transposeB in [false, true] {
                if transposeB, config.useLocal, config.kwg % config.vw != 0 { continue }
                let problem = GEMMProblem(m: shape.0, n: shape.1, k: shape.2, transposeB: transposeB)
                let error = try Self.compare(problem, config: .tiled(config))
                #expect(error <= Self.tolerance, "\(problem) \(config): relative error \(error)")
            }
        }
    }

    @Test("tiled kernel with A transposed")
    func tiledTransposedA() throws {
        let problem = GEMMProblem(m: 33, n: 70, k: 19, transposeA: true)
        for config in Self.tiledConfigs where !config.packB {
            let error = try Self.compare(problem, config: .tiled(config))
            #expect(error <= Self.tolerance, "\(config): relative error \(error)")
        }
    }

    static let skinnyConfigs: [GEMMSkinnyConfig] = [
        GEMMSkinnyConfig(maxRows: 4, nr: 4, vw: 16, lk: 1, wgn: 16),
        GEMMSkinnyConfig(maxRows: 1, nr: 3, vw: 1, lk: 1, wgn: 5),
        GEMMSkinnyConfig(maxRows: 16, nr: 1, vw: 4, lk: 8, wgn: 2),
        GEMMSkinnyConfig(maxRows: 2, nr: 2, vw: 8, lk: 4, wgn: 4),
    ]

    @Test("skinny kernel, M = 1...17", arguments: skinnyConfigs)
    func skinny(config: GEMMSkinnyConfig) throws {
        for m in [1, 2, 3, 5, 16, 17] {
            for (n, k) in [(1, 1), (7, 33), (1000, 64), (33, 1000), (65, 129)] {
                let problem = GEMMProblem(m: m, n: n, k: k, transposeB: true)
                let error = try Self.compare(problem, config: .skinny(config))
                #expect(error <= Self.tolerance, "\(problem) \(config): relative error \(error)")
            }
        }
    }

    @Test("direct kernel", arguments: [false, true])
    func direct(transposeA: Bool) throws {
        for shape in Self.shapes.prefix(8) {
            for transposeB in [false, true] {
                let problem = GEMMProblem(
                    m: shape.0, n: shape.1, k: shape.2, transposeA: transposeA, transposeB: transposeB)
                let error = try Self.compare(problem, config: .direct)
                #expect(error <= Self.tolerance, "\(problem): relative error \(error)")
            }
        }
    }

    @Test("packing B reuses and grows the scratch buffer across calls of different sizes")
    func packedScratchReuse() throws {
        let backend = try TestDevice.opencl()
        var table = GEMMTuningTable.builtInDefaults(for: backend.device)
        table.entries[.nnLarge] = .init(
            config: .tiled(GEMMTileConfig(tm: 4, tn: 3, vw: 8, wgm: 8, wgn: 1, packB: true)))
        let gemm = OpenCLGEMM(backend: backend, tuning: table)
        for (m, n, k) in [(40, 64, 48), (33, 100, 70), (20, 8, 8), (50, 130, 90)] {
            let error = try gemmError(GEMMProblem(m: m, n: n, k: k), config: nil, backend: backend, gemm: gemm)
            #expect(error <= Self.tolerance, "\(m)x\(n)x\(k): relative error \(error)")
        }
        let transposedA = GEMMProblem(m: 40, n: 64, k: 48, transposeA: true)
        guard case .tiled(let tile) = gemm.plan(for: transposedA) else {
            Issue.record("expected a tiled plan")
            return
        }
        #expect(!tile.packB, "a transposed A cannot use the packed path")
        #expect(try gemmError(transposedA, config: nil, backend: backend, gemm: gemm) <= Self.tolerance)
    }

    @Test("alpha and beta", arguments: [(Float(1), Float(0)), (0.5, 1), (-2, 0.25), (0, 3)])
    func alphaBeta(scalars: (Float, Float)) throws {
        for transposeB in [false, true] {
            for m in [1, 9, 40] {
                let problem = GEMMProblem(m: m, n: 37, k: 45, transposeB: transposeB, alpha: scalars.0, beta: scalars.1)
                let error = try Self.compare(problem)
                #expect(error <= Self.tolerance, "\(problem) α=\(scalars.0) β=\(scalars.1): relative error \(error)")
            }
        }
    }

    @Test(
        "fp16 storage of A and B",
        arguments: [(ElementType.float16, ElementType.float32), (.float32, .float16), (.float16, .float16)])
    func halfStorage(types: (ElementType, ElementType)) throws {
        for transposeB in [false, true] {
            for (m, n, k) in [(1, 33, 1000), (7, 65, 31), (100, 20, 300), (4, 4, 4)] {
                let problem = GEMMProblem(m: m, n: n, k: k, transposeB: transposeB)
                let error = try Self.compare(problem, aType: types.0, bType: types.1)
                #expect(error <= Self.tolerance, "\(problem) \(types): relative error \(error)")
            }
        }
    }

    @Test("beta = 0 ignores NaN in C")
    func betaZeroIgnoresNaN() throws {
        let backend = try TestDevice.opencl()
        let gemm = OpenCLGEMM(backend: backend, tuning: GEMMTuningTable.builtInDefaults(for: backend.device))
        for problem in [
            GEMMProblem(m: 2, n: 3, k: 4), GEMMProblem(m: 40, n: 50, k: 60),
            GEMMProblem(m: 3, n: 50, k: 60, transposeB: true),
        ] {
            let a = try DeviceTensor(
                backend: backend, copying: HostTensor(randomFloats(problem.m * problem.k, seed: 5)))
            let b = try DeviceTensor(
                backend: backend, copying: HostTensor(randomFloats(problem.k * problem.n, seed: 6)))
            let c = try DeviceTensor(
                backend: backend, copying: HostTensor([Float](repeating: .nan, count: problem.m * problem.n)))
            try gemm.gemm(problem, a: a, b: b, c: c)
            #expect(try c.download(backend.queue).floats.allSatisfy(\.isFinite), "\(problem)")
        }
    }
}

extension GEMMTileConfig: CustomTestStringConvertible {
    public var testDescription: String { description }
}

extension GEMMSkinnyConfig: CustomTestStringConvertible {
    public var testDescription: String { description }
}
