import OpenCLKit

/// What one timed GEMM configuration reached.
public struct GEMMMeasurement: Sendable {
    public var problem: GEMMProblem
    public var config: GEMMKernelConfig
    /// Median device time of one run, in seconds.
    public var seconds: Double
    /// Max relative error against the CPU reference (nil when not verified).
    public var relativeError: Float?

    public var gflops: Double { problem.flops / seconds / 1e9 }
}

/// Times GEMM kernel configurations on a device: a warm-up run (which also pays for JIT
/// compilation), then the median of several runs timed with profiling events, each result
/// optionally checked against the CPU GEMM.
public struct GEMMTimer: Sendable {
    public let gemm: OpenCLGEMM
    /// Timed runs per configuration (the median is reported).
    public var repetitions: Int
    /// A configuration whose result is further than this from the CPU reference is rejected.
    public var tolerance: Float = 1e-4

    public init(gemm: OpenCLGEMM, repetitions: Int = 5) {
        self.gemm = gemm
        self.repetitions = max(1, repetitions)
    }

    /// Random operands for one problem on the device, and the CPU reference result.
    public final class Workload: Sendable {
        public let problem: GEMMProblem
        let a: DeviceTensor, b: DeviceTensor, c: DeviceTensor
        /// Host copies of the operands, for peers that run on the host.
        public let hostA: [Float], hostB: [Float]
        public let reference: [Float]?

        init(problem: GEMMProblem, backend: OpenCLBackend, verify: Bool, seed: UInt64) throws {
            self.problem = problem
            hostA = SplitMix64.floats(problem.m * problem.k, seed: seed)
            hostB = SplitMix64.floats(problem.k * problem.n, seed: seed + 1)
            a = try DeviceTensor(backend: backend, copying: HostTensor(hostA))
            b = try DeviceTensor(backend: backend, copying: HostTensor(hostB))
            c = try DeviceTensor(backend: backend, count: problem.m * problem.n)
            if verify {
                let output = HostTensor(zeros: problem.m * problem.n)
                try CPUGEMM().gemm(problem, a: HostTensor(hostA), b: HostTensor(hostB), c: output)
                reference = output.floats
            } else {
                reference = nil
            }
        }

        /// The device buffers of A, B and C (for running a peer library on the same data).
        public var deviceOperands: (a: DeviceTensor, b: DeviceTensor, c: DeviceTensor) { (a, b, c) }
    }

    /// Prepares operands for `problem` (alpha 1, beta 0); with `verify`, computes the reference.
    public func workload(_ problem: GEMMProblem, verify: Bool = true, seed: UInt64 = 42) throws -> Workload {
        var problem = problem
        problem.alpha = 1
        problem.beta = 0
        return try Workload(problem: problem, backend: gemm.backend, verify: verify, seed: seed)
    }

    /// Times `config` (the planned one when nil) on `workload`. Throws when the kernel fails to
    /// build or run, or its result misses the reference by more than ``tolerance``.
    public func measure(_ config: GEMMKernelConfig? = nil, on workload: Workload) throws -> GEMMMeasurement {
        let config = config ?? gemm.plan(for: workload.problem)
        let (a, b, c) = workload.deviceOperands
        try gemm.encode(workload.problem, a: a, b: b, c: c, config: config).wait()
        var error: Float?
        if let reference = workload.reference {
            let result = try c.download(gemm.backend.queue).floats
            let measured = maxRelativeError(result, reference)
            guard measured <= tolerance else {
                throw OpError.invalidConfiguration(
                    kernel: "\(config)", detail: "result differs from the CPU reference by \(measured) (relative)")
            }
            error = measured
        }
        let times = try (0..<repetitions).map { _ in
            try gemm.encode(workload.problem, a: a, b: b, c: c, config: config).deviceSeconds()
        }
        return GEMMMeasurement(problem: workload.problem, config: config, seconds: median(times), relativeError: error)
    }
}

/// The median of `values` (the mean of the middle two for an even count).
public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
