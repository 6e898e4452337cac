import ClinferOps
import OpenCLKit
import Testing

@Suite("GEMM bad input: typed errors, never a crash")
struct BadInputTests {
    static func tensors(
        _ backend: OpenCLBackend, _ counts: (Int, Int, Int), cType: ElementType = .float32
    ) throws -> (DeviceTensor, DeviceTensor, DeviceTensor) {
        (
            try DeviceTensor(backend: backend, count: counts.0), try DeviceTensor(backend: backend, count: counts.1),
            try DeviceTensor(backend: backend, count: counts.2, type: cType)
        )
    }

    @Test("mismatched operand sizes throw shapeMismatch on both backends")
    func shapeMismatch() throws {
        let backend = try TestDevice.opencl()
        let problem = GEMMProblem(m: 4, n: 5, k: 6)
        for counts in [(23, 30, 20), (24, 31, 20), (24, 30, 21)] {
            let (a, b, c) = try Self.tensors(backend, counts)
            let error = #expect(throws: OpError.self) {
                try OpenCLGEMM(backend: backend).gemm(problem, a: a, b: b, c: c)
            }
            guard case .shapeMismatch = error else { Issue.record("got \(String(describing: error))"); continue }
            #expect(throws: OpError.self) {
                try CPUGEMM().gemm(
                    problem, a: HostTensor(zeros: counts.0), b: HostTensor(zeros: counts.1),
                    c: HostTensor(zeros: counts.2))
            }
        }
    }

    @Test("zero dimensions throw invalidArgument")
    func zeroDimension() throws {
        let error = #expect(throws: OpError.self) {
            try CPUGEMM().gemm(
                GEMMProblem(m: 0, n: 5, k: 6), a: HostTensor(zeros: 1), b: HostTensor(zeros: 30),
                c: HostTensor(zeros: 1))
        }
        guard case .invalidArgument = error else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test("an f16 output throws unsupportedType")
    func halfOutput() throws {
        let backend = try TestDevice.opencl()
        let (a, b, c) = try Self.tensors(backend, (6, 6, 4), cType: .float16)
        let error = #expect(throws: OpError.self) {
            try OpenCLGEMM(backend: backend).gemm(GEMMProblem(m: 2, n: 2, k: 3), a: a, b: b, c: c)
        }
        guard case .unsupportedType = error else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test(
        "kernel configurations that break a constraint are rejected before compiling",
        arguments: [
            GEMMKernelConfig.tiled(GEMMTileConfig(tm: 4, tn: 4, vw: 3, wgm: 8, wgn: 1)),
            .tiled(GEMMTileConfig(tm: 16, tn: 16, vw: 16, wgm: 1, wgn: 1)),
            .tiled(GEMMTileConfig(tm: 4, tn: 4, vw: 8, wgm: 1 << 20, wgn: 1)),
            .tiled(GEMMTileConfig(tm: 4, tn: 4, vw: 8, wgm: 8, wgn: 8, useLocal: true, kwg: 12)),
            .tiled(GEMMTileConfig(tm: 16, tn: 16, vw: 2, wgm: 64, wgn: 64, useLocal: true, kwg: 256)),
            .skinny(GEMMSkinnyConfig(maxRows: 4, nr: 4, vw: 8, lk: 3, wgn: 4)),
            .skinny(GEMMSkinnyConfig(maxRows: 3, nr: 4, vw: 8, lk: 1, wgn: 4)),
        ])
    func invalidConfiguration(config: GEMMKernelConfig) throws {
        let backend = try TestDevice.opencl()
        let problem = GEMMProblem(m: 64, n: 64, k: 64, transposeB: true)
        let (a, b, c) = try Self.tensors(backend, (64 * 64, 64 * 64, 64 * 64))
        let error = #expect(throws: OpError.self) {
            try OpenCLGEMM(backend: backend).encode(problem, a: a, b: b, c: c, config: config)
        }
        guard case .invalidConfiguration = error else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test("the skinny kernel refuses B stored [K, N]")
    func skinnyNeedsTransposedB() throws {
        let backend = try TestDevice.opencl()
        let (a, b, c) = try Self.tensors(backend, (8, 8 * 8, 8))
        #expect(throws: OpError.self) {
            try OpenCLGEMM(backend: backend).encode(
                GEMMProblem(m: 1, n: 8, k: 8), a: a, b: b, c: c,
                config: .skinny(GEMMSkinnyConfig(nr: 1, vw: 4, lk: 1, wgn: 1)))
        }
    }
}

extension GEMMKernelConfig: CustomTestStringConvertible {
    public var testDescription: String { description }
}
