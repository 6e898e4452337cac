import ClinferKernels
import ClinferOps
import OpenCLKit
import Testing

@Suite("Kernel self-test (the oclgrind check's workload)")
struct SelfTestCoverageTests {
    @Test("every kernel file under Kernels/ is exercised by a self-test check")
    func everyKernelCovered() {
        let covered = Set(KernelSelfTest.checks.map(\.file))
        for file in KernelSource.files {
            #expect(covered.contains(file), "\(file) has no self-test check, so oclgrind never runs it")
        }
    }

    @Test("each kernel family has its own checks: direct, tiled, skinny, pack, bandwidth")
    func namedKernelsCovered() {
        let checksPerFile = Dictionary(grouping: KernelSelfTest.checks, by: \.file).mapValues(\.count)
        for file in ["gemm_direct.cl", "gemm_tiled.cl", "gemm_skinny.cl", "gemm_pack.cl", "bandwidth.cl"] {
            #expect(checksPerFile[file, default: 0] >= 1, "no self-test check runs \(file)")
        }
        #expect(
            checksPerFile["gemm_tiled.cl", default: 0] >= 6, "tiled variants: nn, nt, local, vw1, transposed A, f16")
        #expect(checksPerFile["gemm_skinny.cl", default: 0] >= 2, "skinny with and without the K-split reduction")
    }

    @Test(
        "every self-test check passes on the device, launching kernels of its file; together they launch every kernel")
    func checksPass() throws {
        let backend = try TestDevice.opencl()
        var launched = Set<String>()
        for check in KernelSelfTest.checks {
            let (error, kernels) = try LaunchCollection.collect { try check.run(backend) }
            #expect(error <= check.tolerance, "\(check.name): \(error)")
            let own = Set(KernelSource.kernels(in: check.file))
            #expect(
                !own.isDisjoint(with: kernels), "\(check.name) launched \(kernels), none of \(check.file)'s kernels")
            launched.formUnion(kernels)
        }
        for file in KernelSource.files {
            let kernels = KernelSource.kernels(in: file)
            #expect(!kernels.isEmpty, "\(file) defines no __kernel")
            for kernel in kernels where !launched.contains(kernel) {
                Issue.record(
                    "\(file): kernel \(kernel) is never launched by a self-test check, so oclgrind never runs it")
            }
        }
    }

    @Test("the bandwidth probe measures a positive rate")
    func bandwidthProbe() throws {
        let rate = try BandwidthProbe(backend: TestDevice.opencl()).readBytesPerSecond(bytes: 4 << 20, repetitions: 2)
        #expect(rate > 0 && rate.isFinite)
    }
}
