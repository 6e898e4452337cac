import ClinferOps
import Testing

@Suite("README example")
struct ReadmeExampleTests {
    /// The "Using Clinfer from Swift" snippet, on both backends: [2, 4] · [3, 4]ᵀ.
    @Test("the embedding example computes the right product on OpenCL and CPU")
    func readmeExample() throws {
        let problem = GEMMProblem(m: 2, n: 3, k: 4, transposeB: true)
        let a = HostTensor((0..<8).map(Float.init)), b = HostTensor((0..<12).map(Float.init))
        let expected: [Float] = [14, 38, 62, 38, 126, 214]

        let backend = try TestDevice.opencl()
        let deviceC = try DeviceTensor(backend: backend, count: 6)
        try OpenCLGEMM(backend: backend).gemm(
            problem, a: DeviceTensor(backend: backend, copying: a),
            b: DeviceTensor(backend: backend, copying: b), c: deviceC)
        #expect(try deviceC.download(backend.queue).floats == expected)

        let hostC = HostTensor(zeros: 6)
        try CPUGEMM().gemm(problem, a: a, b: b, c: hostC)
        #expect(hostC.floats == expected)
    }

    @Test("backend preference parsing")
    func backendSelection() throws {
        guard case .cpu = try ComputeTarget.select(.cpu) else {
            Issue.record("cpu preference must give the CPU backend"); return
        }
        guard case .opencl = try ComputeTarget.select(.opencl) else {
            Issue.record("opencl preference must give OpenCL here"); return
        }
        #expect(throws: (any Error).self) { try ComputeTarget.select(.opencl, device: .name("no-such-device")) }
        #expect(ComputeTarget.Preference(rawValue: "auto") == .automatic)
    }
}
