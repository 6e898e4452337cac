import OpenCLKit

/// Searches kernel configurations per shape class and returns the fastest correct one of
/// each as a ``GEMMTuningTable`` (save it with ``GEMMTuningStore``).
public struct GEMMTuner: Sendable {
    /// One step of a tuning run, for progress display.
    public struct Step: Sendable {
        public var shapeClass: GEMMShapeClass
        /// 1-based position of this candidate among `total` for the class.
        public var index: Int
        public var total: Int
        public var config: GEMMKernelConfig
        /// The measurement, or why the candidate was rejected.
        public var outcome: Result<GEMMMeasurement, any Error>
    }

    public let timer: GEMMTimer
    /// Random configurations added to each class's grid.
    public var randomSamples: Int
    public var seed: UInt64

    public init(timer: GEMMTimer, randomSamples: Int = 12, seed: UInt64 = 0x5EED) {
        self.timer = timer
        self.randomSamples = randomSamples
        self.seed = seed
    }

    /// Tunes `classes` on their representative problems (or `problems` where given), starting
    /// from `base` for the classes not tuned. Calls `progress` after every candidate.
    public func tune(
        _ classes: [GEMMShapeClass] = GEMMShapeClass.allCases, problems: [GEMMShapeClass: GEMMProblem] = [:],
        base: GEMMTuningTable? = nil, progress: (Step) -> Void = { _ in }
    ) throws -> GEMMTuningTable {
        let device = timer.gemm.backend.device
        var table = base ?? GEMMTuningTable.builtInDefaults(for: device)
        table.device = device.cacheIdentity
        for shapeClass in classes {
            let problem = problems[shapeClass] ?? shapeClass.tuningProblem
            guard GEMMShapeClass(problem) == shapeClass else {
                throw OpError.invalidArgument(op: "tune", detail: "problem \(problem) is not of class \(shapeClass.rawValue)")
            }
            let workload = try timer.workload(problem)
            let candidates = GEMMSearchSpace(shapeClass: shapeClass, randomSamples: randomSamples, seed: seed).candidates(for: device)
            var best: GEMMMeasurement?
            for (offset, config) in candidates.enumerated() {
                let outcome = Result { try timer.measure(config, on: workload) }
                if case .success(let measurement) = outcome, measurement.seconds < best?.seconds ?? .infinity {
                    best = measurement
                }
                progress(Step(shapeClass: shapeClass, index: offset + 1, total: candidates.count, config: config, outcome: outcome))
            }
            if let best {
                table.entries[shapeClass] = .init(config: best.config, gflops: best.gflops,
                                                  shape: "\(problem.m)x\(problem.n)x\(problem.k)")
            }
        }
        return table
    }
}
