import Foundation
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
        /// The measurements (one per tuning problem), or why the candidate was rejected.
        public var outcome: Result<[GEMMMeasurement], any Error>

        /// The geometric mean of the GFLOPS of a successful candidate.
        public var gflops: Double? { (try? outcome.get()).map(geometricMeanGFLOPS) }
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
        _ classes: [GEMMShapeClass] = GEMMShapeClass.allCases, problems: [GEMMShapeClass: [GEMMProblem]] = [:],
        base: GEMMTuningTable? = nil, progress: (Step) -> Void = { _ in }
    ) throws -> GEMMTuningTable {
        let device = timer.gemm.backend.device
        var table = base ?? GEMMTuningTable.builtInDefaults(for: device)
        table.device = device.cacheIdentity
        for shapeClass in classes {
            let classProblems = problems[shapeClass] ?? shapeClass.tuningProblems
            for problem in classProblems where GEMMShapeClass(problem) != shapeClass {
                throw OpError.invalidArgument(
                    op: "tune", detail: "problem \(problem) is not of class \(shapeClass.rawValue)")
            }
            let workloads = try classProblems.map { try timer.workload($0) }
            let candidates = GEMMSearchSpace(shapeClass: shapeClass, randomSamples: randomSamples, seed: seed)
                .candidates(for: device)
            var best: (config: GEMMKernelConfig, gflops: Double)?
            for (offset, config) in candidates.enumerated() {
                let step = Step(
                    shapeClass: shapeClass, index: offset + 1, total: candidates.count, config: config,
                    outcome: Result { try workloads.map { try timer.measure(config, on: $0) } })
                if let gflops = step.gflops, gflops > best?.gflops ?? 0 { best = (config, gflops) }
                progress(step)
            }
            if let best {
                table.entries[shapeClass] = .init(
                    config: best.config, gflops: best.gflops,
                    shape: classProblems.map { "\($0.m)x\($0.n)x\($0.k)" }.joined(separator: ","))
            }
        }
        return table
    }
}

/// The geometric mean of the GFLOPS of `measurements`.
func geometricMeanGFLOPS(_ measurements: [GEMMMeasurement]) -> Double {
    guard !measurements.isEmpty else { return 0 }
    return exp(measurements.map { log($0.gflops) }.reduce(0, +) / Double(measurements.count))
}
