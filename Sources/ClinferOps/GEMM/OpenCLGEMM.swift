import OpenCLKit

/// GEMM on an OpenCL device with Clinfer's kernels.
///
/// Picks one of three paths per problem: the bounds-checked direct kernel for tiny problems
/// (and A, B both transposed), the skinny kernel for B stored [N, K] with M ≤ 16 (decode), and
/// the tiled kernel otherwise, each with the configuration from the device's tuning table.
public final class OpenCLGEMM: GEMMOperation {
    public let backend: OpenCLBackend
    public let tuning: GEMMTuningTable

    /// Uses `tuning`, or the device's saved tuning file (built-in defaults when there is none
    /// or it is unusable; the reason goes to `onWarning`).
    public init(backend: OpenCLBackend, tuning: GEMMTuningTable? = nil, store: GEMMTuningStore = GEMMTuningStore(),
                onWarning: (String) -> Void = { _ in }) {
        self.backend = backend
        if let tuning {
            self.tuning = tuning
        } else {
            let resolved = store.resolve(for: backend.device)
            if let warning = resolved.warning { onWarning(warning) }
            self.tuning = resolved.table
        }
    }

    /// The kernel configuration this GEMM uses for `problem`.
    public func plan(for problem: GEMMProblem) -> GEMMKernelConfig {
        // The kernels for B stored [N, K] read A along K; with A transposed too, go direct.
        if problem.transposeA && problem.transposeB { return .direct }
        if problem.m * problem.n * problem.k <= tuning.directMaxWork { return .direct }
        return tuning.config(for: GEMMShapeClass(problem), device: backend.device)
    }

    public func gemm(_ problem: GEMMProblem, a: DeviceTensor, b: DeviceTensor, c: DeviceTensor) throws {
        try encode(problem, a: a, b: b, c: c)
    }

    /// Enqueues the GEMM with the planned configuration, or `config` when given (the tuner and
    /// benchmarks use this), and returns the kernel's event without waiting.
    @discardableResult
    public func encode(_ problem: GEMMProblem, a: DeviceTensor, b: DeviceTensor, c: DeviceTensor,
                       config: GEMMKernelConfig? = nil) throws -> Event {
        try problem.validate(a: a, b: b, c: c)
        let config = config ?? plan(for: problem)
        try config.validate(for: backend.device, shapeClass: GEMMShapeClass(problem))
        let storage = "-DA_HALF=\(a.elementType == .float16 ? 1 : 0) -DB_HALF=\(b.elementType == .float16 ? 1 : 0)"
        let (m, n, k) = (Int32(problem.m), Int32(problem.n), Int32(problem.k))
        switch config {
        case .direct:
            let kernel = try backend.kernel("gemm_direct", file: "gemm_direct.cl", options: storage)
            let (aSM, aSK): (Int32, Int32) = problem.transposeA ? (1, m) : (k, 1)
            let (bSK, bSN): (Int32, Int32) = problem.transposeB ? (1, k) : (n, 1)
            return try backend.queue.enqueue(
                kernel, global: [problem.n, problem.m],
                arguments: [m, n, k, problem.alpha, a.argument, aSM, aSK, b.argument, bSK, bSN, problem.beta, c.argument])
        case .tiled(let tile):
            if problem.transposeA && problem.transposeB {
                throw OpError.invalidConfiguration(kernel: "gemm_tiled", detail: "A and B both transposed need the direct kernel")
            }
            let name = problem.transposeB ? "gemm_tiled_nt" : "gemm_tiled_nn"
            let kernel = try backend.kernel(name, file: "gemm_tiled.cl",
                                            options: tile.buildOptions(transposeA: problem.transposeA) + " " + storage)
            let columns = tile.columnsPerItem(transposedB: problem.transposeB)
            let global = [roundUp(ceilDiv(problem.m, tile.tm), tile.wgm), roundUp(ceilDiv(problem.n, columns), tile.wgn)]
            return try backend.queue.enqueue(
                kernel, global: global, local: [tile.wgm, tile.wgn],
                arguments: [m, n, k, problem.alpha, a.argument, b.argument, problem.beta, c.argument])
        case .skinny(let skinny):
            guard problem.transposeB, !problem.transposeA else {
                throw OpError.invalidConfiguration(kernel: "gemm_skinny", detail: "needs B stored [N, K] and A not transposed")
            }
            let kernel = try backend.kernel("gemm_skinny_nt", file: "gemm_skinny.cl",
                                            options: skinny.buildOptions(rows: skinny.rows(for: problem.m)) + " " + storage)
            let global = [skinny.lk, roundUp(ceilDiv(problem.n, skinny.nr), skinny.wgn)]
            return try backend.queue.enqueue(
                kernel, global: global, local: [skinny.lk, skinny.wgn],
                arguments: [m, n, k, problem.alpha, a.argument, b.argument, problem.beta, c.argument])
        }
    }
}

@inline(__always) func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
@inline(__always) func roundUp(_ a: Int, _ b: Int) -> Int { ceilDiv(a, b) * b }
