import OpenCLKit

/// GEMM on an OpenCL device with Clinfer's kernels.
///
/// Picks one of three paths per problem: the bounds-checked direct kernel for tiny problems
/// (and A, B both transposed), the skinny kernel for B stored [N, K] with M ≤ 16 (decode), and
/// the tiled kernel otherwise, each with the configuration from the device's tuning table.
public final class OpenCLGEMM: GEMMOperation {
    public let backend: OpenCLBackend
    public let tuning: GEMMTuningTable
    /// Scratch memory for packed or dequantized operands.
    private let scratch = ScratchBuffer()

    /// Uses `tuning`, or the device's saved tuning file (built-in defaults when there is none
    /// or it is unusable; the reason goes to `onWarning`).
    public init(
        backend: OpenCLBackend, tuning: GEMMTuningTable? = nil, store: GEMMTuningStore = GEMMTuningStore(),
        onWarning: (String) -> Void = { _ in }
    ) {
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
        let shapeClass = GEMMShapeClass(problem)
        let config = tuning.config(for: shapeClass, device: backend.device)
        // Packing B leads to the [N, K] kernel, which reads A along K: not with A transposed.
        if problem.transposeA, case .tiled(let tile) = config, tile.packB {
            var direct = tile
            direct.packB = false
            if (try? direct.validate(for: backend.device, transposedB: false)) != nil { return .tiled(direct) }
            return GEMMTuningTable.builtInDefaults(for: backend.device).config(for: shapeClass, device: backend.device)
        }
        return config
    }

    public func gemm(_ problem: GEMMProblem, a: DeviceTensor, b: DeviceTensor, c: DeviceTensor) throws {
        try encode(problem, a: a, b: b, c: c)
    }

    /// Enqueues the GEMM with the planned configuration, or `config` when given (the tuner and
    /// benchmarks use this), and returns the events of its kernels without waiting.
    @discardableResult
    public func encode(
        _ problem: GEMMProblem, a: DeviceTensor, b: DeviceTensor, c: DeviceTensor,
        config: GEMMKernelConfig? = nil
    ) throws -> EventSpan {
        try problem.validate(a: a, b: b, c: c)
        let config = config ?? plan(for: problem)
        try config.validate(for: backend.device, shapeClass: GEMMShapeClass(problem))
        let aStorage = "-DA_HALF=\(a.elementType == .float16 ? 1 : 0)"
        let bStorage = "-DB_HALF=\(b.elementType == .float16 ? 1 : 0)"
        let (m, n, k) = (Int32(problem.m), Int32(problem.n), Int32(problem.k))
        switch config {
        case .direct:
            let kernel = try backend.kernel(.gemmDirect, options: aStorage + " " + bStorage)
            let (aSM, aSK): (Int32, Int32) = problem.transposeA ? (1, m) : (k, 1)
            let (bSK, bSN): (Int32, Int32) = problem.transposeB ? (1, k) : (n, 1)
            return EventSpan(
                try backend.queue.enqueue(
                    kernel, global: [problem.n, problem.m],
                    arguments: [
                        m, n, k, problem.alpha, a.argument, aSM, aSK, b.argument, bSK, bSN, problem.beta, c.argument,
                    ]))
        case .tiled(let tile) where tile.packB && !problem.transposeB:
            guard !problem.transposeA else {
                throw OpError.invalidConfiguration(kernel: "gemm_tiled", detail: "packB cannot serve a transposed A")
            }
            return try scratch.withTensor(count: problem.k * problem.n, backend: backend) { packedB in
                let packEvent = try pack(b, k: problem.k, n: problem.n, into: packedB)
                let event = try launch(
                    problem, config: config, a: a, b: [packedB.argument], bOptions: "-DB_HALF=0", c: c)
                return EventSpan(first: packEvent, last: event)
            }
        case .tiled, .skinny:
            return EventSpan(try launch(problem, config: config, a: a, b: [b.argument], bOptions: bStorage, c: c))
        }
    }

    /// Launches the tiled or skinny kernel with B given as kernel arguments and the build
    /// options that say how to read it (`-DB_HALF=…`, or a quantized format's `-DB_QUANT=…`).
    /// The quantized matmul reuses the GEMM kernels through this seam.
    func launch(
        _ problem: GEMMProblem, config: GEMMKernelConfig, a: DeviceTensor, b: [any KernelArgument],
        bOptions: String, c: DeviceTensor
    ) throws -> Event {
        let options = "-DA_HALF=\(a.elementType == .float16 ? 1 : 0) " + bOptions
        let (m, n, k) = (Int32(problem.m), Int32(problem.n), Int32(problem.k))
        let arguments: [any KernelArgument] = [m, n, k, problem.alpha, a.argument] + b + [problem.beta, c.argument]
        switch config {
        case .tiled(var tile):
            guard !(problem.transposeA && problem.transposeB) else {
                throw OpError.invalidConfiguration(
                    kernel: "gemm_tiled", detail: "A and B both transposed need the direct kernel")
            }
            // Rows past M are clamped, i.e. wasted work: never tile more rows than M needs.
            tile.tm = min(tile.tm, nextPowerOfTwo(problem.m))
            let transposedKernel = tile.runsTransposedKernel(transposedB: problem.transposeB)
            let kernel = try backend.kernel(
                transposedKernel ? .gemmTiledNt : .gemmTiledNn,
                options: tile.buildOptions(transposeA: problem.transposeA) + " " + options)
            let columns = tile.columnsPerItem(transposedB: problem.transposeB)
            let global = [
                roundUp(ceilDiv(problem.m, tile.tm), tile.wgm), roundUp(ceilDiv(problem.n, columns), tile.wgn),
            ]
            return try backend.queue.enqueue(kernel, global: global, local: [tile.wgm, tile.wgn], arguments: arguments)
        case .skinny(let skinny):
            guard problem.transposeB, !problem.transposeA else {
                throw OpError.invalidConfiguration(
                    kernel: "gemm_skinny", detail: "needs B stored [N, K] and A not transposed")
            }
            let kernel = try backend.kernel(
                .gemmSkinnyNt,
                options: skinny.buildOptions(rows: skinny.rows(for: problem.m)) + " " + options)
            let global = [skinny.lk, roundUp(ceilDiv(problem.n, skinny.nr), skinny.wgn)]
            return try backend.queue.enqueue(
                kernel, global: global, local: [skinny.lk, skinny.wgn], arguments: arguments)
        case .direct:
            throw OpError.invalidConfiguration(kernel: "gemm_direct", detail: "takes strided operands; use encode")
        }
    }
}

extension OpenCLGEMM {
    /// Enqueues B [K, N] packed into `target`, [N, K] fp32.
    private func pack(_ b: DeviceTensor, k: Int, n: Int, into target: DeviceTensor) throws -> Event {
        let tile = 16
        let kernel = try backend.kernel(
            .gemmPackB,
            options: "-DTILE=\(tile) -DB_HALF=\(b.elementType == .float16 ? 1 : 0)")
        return try backend.queue.enqueue(
            kernel, global: [ceilDiv(k, tile), ceilDiv(n, tile)],
            arguments: [Int32(k), Int32(n), b.argument, target.argument])
    }
}

@inline(__always) func nextPowerOfTwo(_ value: Int) -> Int {
    var power = 1
    while power < value { power *= 2 }
    return power
}

@inline(__always) func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
@inline(__always) func roundUp(_ a: Int, _ b: Int) -> Int { ceilDiv(a, b) * b }
