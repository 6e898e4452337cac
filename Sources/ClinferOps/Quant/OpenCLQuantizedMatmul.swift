import OpenCLKit

/// Quantized matmul on an OpenCL device, three paths (see ``Path``):
/// - the decode GEMV (M ≤ 16): `Kernels/quant_gemv.cl` streams the quantized rows in the file's
///   order, one pass over the weights per 8 rows of x;
/// - fused GEMM: the GEMM kernels for B stored [N, K] compiled to read quantized B (`B_QUANT`,
///   see `Kernels/gemm_common.h`), dequantizing in registers and accumulating in fp32;
/// - dequantize then GEMM: for prefill (M > 16) the weights are expanded to fp32 once into
///   scratch memory and the tuned fp32 GEMM runs; one pass of N·K writes is small next to
///   M·N·K multiply-adds, and the fp32 kernels are the fastest the device has.
public final class OpenCLQuantizedMatmul: QuantizedMatmulOperation {
    public let gemm: OpenCLGEMM
    /// How the decode GEMV reads x for 4-bit weights (`Kernels/quant_gemv_dot.cl` in the integer
    /// modes).
    public let activations: GEMVActivations
    /// Activations divided by a folded input scale; weights expanded to fp32 for the prefill GEMM.
    private let scaled = ScratchBuffer(), dense = ScratchBuffer()

    public init(gemm: OpenCLGEMM, activations: GEMVActivations = .default) {
        self.gemm = gemm
        self.activations = activations
    }

    /// How one matmul runs.
    public enum Path: Sendable, Hashable {
        /// The decode GEMV (`Kernels/quant_gemv.cl`) with this configuration.
        case gemv(QuantGEMVConfig)
        /// The GEMM kernel with this configuration reads the quantized weights directly.
        case fused(GEMMKernelConfig)
        /// Dequantize into scratch memory, then the fp32 GEMM with its planned configuration.
        case dequantizeThenGEMM
    }

    /// The path used for `rows` rows of x with `format` weights: for M ≤ 16 (decode) the GEMV
    /// with the device's defaults, else dequantize then GEMM.
    public func plan(rows: Int, format: QuantFormat) -> Path {
        guard rows <= GEMMShapeClass.skinnyMaxM else { return .dequantizeThenGEMM }
        return .gemv(.defaults(for: format, device: gemm.backend.device))
    }

    /// How `rows` rows of x are read for `format` weights on `path` (the planned one when nil):
    /// quantized in the integer modes on the GEMV over 4-bit weights with 32-element groups (the
    /// GGUF formats) and no input scale, exactly everywhere else (and where local memory cannot
    /// hold x).
    public func activations(
        rows: Int, format: QuantFormat, path: Path? = nil, inputScale: Bool = false
    ) -> GEMVActivations {
        guard activations != .exact, format.deviceEncoding == .nibbles, format.groupSize == 32, !inputScale,
            case .gemv = path ?? plan(rows: rows, format: format)
        else { return .exact }
        return activations
    }

    public func matmul(x: DeviceTensor, weights: DeviceQuantizedMatrix, y: DeviceTensor, rows: Int) throws {
        try encode(x: x, weights: weights, y: y, rows: rows)
    }

    /// Enqueues y = x · Wᵀ on the planned path, or `path`, without waiting.
    @discardableResult
    public func encode(
        x: DeviceTensor, weights: DeviceQuantizedMatrix, y: DeviceTensor, rows: Int,
        path: Path? = nil
    ) throws -> EventSpan {
        let (n, k) = (weights.rows, weights.columns)
        try validateQuantizedMatmul(x: x, y: y, rows: rows, n: n, k: k)
        let problem = GEMMProblem(m: rows, n: n, k: k, transposeB: true)
        let path = path ?? plan(rows: rows, format: weights.format)
        switch path {
        case .fused(.direct):
            throw OpError.invalidConfiguration(
                kernel: "quantized matmul", detail: "the direct kernel does not read quantized weights")
        case .fused(let config):
            try config.validate(for: gemm.backend.device, shapeClass: GEMMShapeClass(problem))
        case .gemv(let config):
            try config.validate(for: gemm.backend.device)
        case .dequantizeThenGEMM:
            break
        }
        guard let inverse = weights.inverseInputScale else {
            return try encode(path, problem: problem, x: x, weights: weights, y: y, first: nil)
        }
        return try scaled.withTensor(count: rows * k, backend: gemm.backend) { input in
            let first = try divideByInputScale(x, inverse: inverse, rows: rows, k: k, into: input)
            return try encode(path, problem: problem, x: input, weights: weights, y: y, first: first)
        }
    }

    /// Enqueues `path` for x (already divided by any input scale, by the command `first`).
    private func encode(
        _ path: Path, problem: GEMMProblem, x input: DeviceTensor, weights: DeviceQuantizedMatrix, y: DeviceTensor,
        first: Event?
    ) throws -> EventSpan {
        let (rows, n, k) = (problem.m, problem.n, problem.k)
        let backend = gemm.backend
        switch path {
        case .fused(let config):
            let event = try gemm.launch(
                problem, config: config, a: input, b: weights.kernelArguments, bOptions: weights.buildOptions, c: y)
            return EventSpan(first: first ?? event, last: event)
        case .dequantizeThenGEMM:
            return try dense.withTensor(count: n * k, backend: backend) { dense in
                let expand = try weights.dequantize(into: dense, backend: backend)
                let span = try gemm.encode(problem, a: input, b: dense, c: y)
                return EventSpan(first: first ?? expand, last: span.last)
            }
        case .gemv(let config):
            let event = try launchGEMV(config, x: input, weights: weights, y: y, rows: rows, outputs: n, gate: nil)
            return EventSpan(first: first ?? event, last: event)
        }
    }

    /// Enqueues the gated feed-forward's y = gate(x·Gᵀ) ⊙ (x·Uᵀ) (SwiGLU, GeGLU) for weights
    /// stacking the gate rows G over the up rows U ([2N, K], y [rows, N]) as the decode GEMV's
    /// epilogue, without the [rows, 2N] intermediate or the activation's launch. Returns nil where
    /// that fused form does not apply (more than 16 rows, a folded input scale, an odd row count):
    /// the caller then runs the projection and the activation apart.
    public func encodeGated(
        _ gate: GatedActivation = .silu, x: DeviceTensor, weights: DeviceQuantizedMatrix, y: DeviceTensor,
        rows: Int, config: QuantGEMVConfig? = nil
    ) throws -> Event? {
        guard rows <= GEMMShapeClass.skinnyMaxM, weights.inverseInputScale == nil, weights.rows % 2 == 0 else {
            return nil
        }
        let n = weights.rows / 2
        try validateQuantizedMatmul(x: x, y: y, rows: rows, n: n, k: weights.columns)
        let config = config ?? .defaults(for: weights.format, device: gemm.backend.device)
        try config.validate(for: gemm.backend.device)
        return try launchGEMV(config, x: x, weights: weights, y: y, rows: rows, outputs: n, gate: gate)
    }

    /// Enqueues `Kernels/quant_gemv.cl` for `outputs` columns of y, or its integer-dot form
    /// (`Kernels/quant_gemv_dot.cl`) for 4-bit weights in the integer activation modes.
    private func launchGEMV(
        _ config: QuantGEMVConfig, x: DeviceTensor, weights: DeviceQuantizedMatrix, y: DeviceTensor, rows: Int,
        outputs: Int, gate: GatedActivation?
    ) throws -> Event {
        let backend = gemm.backend
        let (rowsPerPass, rowsPerItem) = config.launchShape(rows: rows, gated: gate != nil)
        if let bits = activations(
            rows: rows, format: weights.format, path: .gemv(config), inputScale: weights.inverseInputScale != nil
        ).bits,
            let event = try launchDotGEMV(
                config, bits: bits, x: x, weights: weights, y: y, rows: rows, outputs: outputs, gate: gate,
                fusion: GEMVFusion())
        {
            return event
        }
        let kernel = try backend.kernel(
            .quantGemv,
            options: weights.buildOptions
                + " -DR=\(rowsPerItem) -DMR=\(rowsPerPass) -DLK=\(config.lanesPerRow) -DGATED=\(gate?.rawValue ?? 0) "
                + "-DA_HALF=\(x.elementType == .float16 ? 1 : 0)")
        return try backend.queue.enqueue(
            kernel, global: [ceilDiv(outputs, rowsPerItem) * config.lanesPerRow], local: [config.lanesPerRow],
            arguments: [Int32(rows), Int32(outputs), Int32(weights.columns), x.argument] + weights.kernelArguments
                + [y.argument])
    }

    /// Enqueues `Kernels/quant_gemv_dot.cl` with x read as `bits`-bit integers (32: fp32) and the
    /// `fusion`'s prologue and epilogue; nil where the device's local memory cannot hold x.
    private func launchDotGEMV(
        _ config: QuantGEMVConfig, bits: Int, x: DeviceTensor, weights: DeviceQuantizedMatrix, y: DeviceTensor,
        rows: Int, outputs: Int, gate: GatedActivation?, fusion: GEMVFusion
    ) throws -> Event? {
        let backend = gemm.backend
        let (rowsPerPass, rowsPerItem) = config.launchShape(rows: rows, gated: gate != nil)
        guard
            let launch = IntegerDotLaunch(
                config, device: backend.device, bits: bits, rows: rows, columns: weights.columns, outputs: outputs,
                rowsPerPass: rowsPerPass, rowsPerItem: rowsPerItem, gated: gate != nil)
        else { return nil }
        let kernel = try backend.kernel(
            .quantGemvDot,
            options: "-DXBITS=\(bits) -DR=\(rowsPerItem) -DMR=\(rowsPerPass) -DLK=\(config.lanesPerRow) "
                + "-DGATED=\(gate?.rawValue ?? 0) -DNORM=\(fusion.norm == nil ? 0 : 1) "
                + "-DRESIDUAL=\(fusion.residual ? 1 : 0) -DA_HALF=\(x.elementType == .float16 ? 1 : 0)")
        return try backend.queue.enqueue(
            kernel, global: launch.global, local: launch.local,
            arguments: [Int32(rows), Int32(outputs), Int32(weights.columns), x.argument] + weights.kernelArguments
                + [y.argument, fusion.norm?.weight.argument ?? y.argument, fusion.norm?.eps ?? 0] + launch.localMemory)
    }

    /// Rows of x the fused GEMV takes at most: one sequence's decode step. Measured on PoCL
    /// (2 cores, SmolLM2): fusing 4- and 16-row batched steps ran 7–25 % slower than the
    /// separate norm and GEMV launches (360–380 vs 404–409 tok/s at 4 streams, 433–458 vs
    /// 568–580 at 16), one row 3–5 % faster.
    public static let maxFusedRows = 1

    /// Whether a model should run its decode step fused (``encodeFused(x:weights:y:rows:gate:fusion:config:)``)
    /// for these weights and rows of x: up to ``maxFusedRows`` rows where the fused GEMV can run,
    /// x included in the device's local memory. Models decide this once, at load.
    public func fuses(_ weights: DeviceQuantizedMatrix, rows: Int, gated: Bool = false) -> Bool {
        let config = QuantGEMVConfig.defaults(for: weights.format, device: gemm.backend.device)
        let (rowsPerPass, rowsPerItem) = config.launchShape(rows: rows, gated: gated)
        return rows <= Self.maxFusedRows && fusible(weights, rows: rows, gated: gated)
            && IntegerDotLaunch(
                config, device: gemm.backend.device, bits: activations.bits ?? 32, rows: rows,
                columns: weights.columns, outputs: gated ? weights.rows / 2 : weights.rows, rowsPerPass: rowsPerPass,
                rowsPerItem: rowsPerItem, gated: gated) != nil
    }

    /// Whether the fused GEMV reads these weights at `rows` rows: up to 16 rows over 4-bit
    /// weights with 32-element groups and no input scale (stacked gate/up rows for `gated`).
    public func fusible(_ weights: DeviceQuantizedMatrix, rows: Int, gated: Bool = false) -> Bool {
        rows <= GEMMShapeClass.skinnyMaxM && weights.encoding == .nibbles && weights.groupSize == 32
            && weights.inverseInputScale == nil && (!gated || weights.rows % 2 == 0)
    }

    /// Enqueues the decode GEMV with `fusion`'s RMSNorm prologue (x is then the raw residual
    /// stream) and residual epilogue (y += x·Wᵀ), and the gated epilogue with `gate` (weights
    /// stacking gate over up rows); x is read in this matmul's activation mode (fp32 when
    /// exact). Throws where it cannot run (see ``fusible(_:rows:gated:)``, and x must fit the
    /// device's local memory); models fuse only where ``fuses(_:rows:gated:)`` says it pays.
    /// `config`: the launch shape (default: the device's).
    @discardableResult
    public func encodeFused(
        x: DeviceTensor, weights: DeviceQuantizedMatrix, y: DeviceTensor, rows: Int, gate: GatedActivation? = nil,
        fusion: GEMVFusion, config: QuantGEMVConfig? = nil
    ) throws -> Event {
        let outputs = gate == nil ? weights.rows : weights.rows / 2
        try validateQuantizedMatmul(x: x, y: y, rows: rows, n: outputs, k: weights.columns)
        if let norm = fusion.norm {
            try norm.weight.requireCount(weights.columns, op: "fused GEMV", name: "norm weight")
            guard norm.weight.elementType == .float32 else {
                throw OpError.unsupportedType(op: "fused GEMV", detail: "the norm weight must be f32")
            }
        }
        guard !fusion.residual || x !== y else {
            throw OpError.invalidArgument(op: "fused GEMV", detail: "the residual epilogue cannot write its own input")
        }
        let config = config ?? .defaults(for: weights.format, device: gemm.backend.device)
        try config.validate(for: gemm.backend.device)
        guard fusible(weights, rows: rows, gated: gate != nil),
            let event = try launchDotGEMV(
                config, bits: activations.bits ?? 32, x: x, weights: weights, y: y, rows: rows, outputs: outputs,
                gate: gate, fusion: fusion)
        else {
            throw OpError.invalidConfiguration(
                kernel: "quant_gemv_dot",
                detail: "no fused GEMV for \(weights.format) [\(weights.rows), \(weights.columns)] at \(rows) rows")
        }
        return event
    }

    private func divideByInputScale(
        _ x: DeviceTensor, inverse: Buffer<Float>, rows: Int, k: Int, into target: DeviceTensor
    ) throws -> Event {
        let backend = gemm.backend
        let kernel = try backend.kernel(.quantScaleColumns, options: "-DA_HALF=\(x.elementType == .float16 ? 1 : 0)")
        return try backend.queue.enqueue(
            kernel, global: [k, rows], arguments: [Int32(rows), Int32(k), x.argument, inverse, target.argument])
    }
}
