import OpenCLKit

/// Quantized matmul on an OpenCL device, two paths (see ``Path``):
/// - fused: the GEMM kernels for B stored [N, K] compiled to read quantized B (`B_QUANT`, see
///   `Kernels/gemm_common.h`), dequantizing in registers and accumulating in fp32. The decode
///   path (M ≤ 16, skinny kernel: each weight byte read once per row block);
/// - dequantize then GEMM: for prefill (M > 16) the weights are expanded to fp32 once into
///   scratch memory and the tuned fp32 GEMM runs; one pass of N·K writes is small next to
///   M·N·K multiply-adds, and the fp32 kernels are the fastest the device has.
public final class OpenCLQuantizedMatmul: QuantizedMatmulOperation {
    public let gemm: OpenCLGEMM
    /// Activations divided by a folded input scale; permuted activations and their block sums;
    /// weights expanded to fp32 for the prefill GEMM.
    private let scaled = ScratchBuffer(), permuted = ScratchBuffer(), blockSums = ScratchBuffer(),
        dense = ScratchBuffer()

    /// The fused kernel configuration for decode (M ≤ 16).
    public let decodeConfig: GEMMKernelConfig

    /// `decodeConfig` defaults to ``defaultDecodeConfig(for:)``.
    public init(gemm: OpenCLGEMM, decodeConfig: GEMMKernelConfig? = nil) {
        self.gemm = gemm
        self.decodeConfig = decodeConfig ?? Self.defaultDecodeConfig(for: gemm)
    }

    /// On CPUs one output per work-item with 16-wide loads (measured on PoCL: Q8_0 16–18 GB/s,
    /// Q4 7–10 GB/s, against 6–13 and 3–6 with the fp32 GEMV's 8 outputs per work-item, whose
    /// dequantization spills registers); elsewhere the GEMM table's skinny configuration.
    public static func defaultDecodeConfig(for gemm: OpenCLGEMM) -> GEMMKernelConfig {
        let device = gemm.backend.device
        if device.type == .cpu { return .skinny(GEMMSkinnyConfig(maxRows: 4, nr: 1, vw: 16, lk: 1, wgn: 16)) }
        let config = gemm.tuning.config(for: .ntSkinny, device: device)
        if case .direct = config {
            return GEMMTuningTable.builtInDefaults(for: device).config(for: .ntSkinny, device: device)
        }
        return config
    }

    /// How one matmul runs.
    public enum Path: Sendable, Hashable {
        /// The GEMM kernel with this configuration reads the quantized weights directly.
        case fused(GEMMKernelConfig)
        /// Dequantize into scratch memory, then the fp32 GEMM with its planned configuration.
        case dequantizeThenGEMM
        /// The 4-bit decode GEMV (`Kernels/quant_gemv.cl`) with this work-group size: nibbles
        /// decoded with shifts and masks against activations permuted once per call.
        case nibbleGEMV(workGroup: Int)
        /// The decode GEMV over the interleaved layout (`Kernels/quant_interleaved.cl`), a
        /// work-group per tile of rows.
        case interleavedGEMV
    }

    /// The path used for `rows` rows of x with `format` weights: for M ≤ 16 (decode) the nibble
    /// GEMV for 4-bit formats and the fused skinny kernel for Q8_0, else dequantize then GEMM.
    public func plan(rows: Int, format: QuantFormat, layout: DeviceQuantizedMatrix.Layout = .blocks) -> Path {
        guard rows <= GEMMShapeClass.skinnyMaxM else { return .dequantizeThenGEMM }
        if case .interleaved = layout { return .interleavedGEMV }
        return format.bits == 4
            ? .nibbleGEMV(workGroup: min(16, gemm.backend.device.maxWorkGroupSize)) : .fused(decodeConfig)
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
        let path = path ?? plan(rows: rows, format: weights.format, layout: weights.layout)
        let interleaved = weights.layout != .blocks
        switch path {
        case .interleavedGEMV where !interleaved, .fused where interleaved, .nibbleGEMV where interleaved:
            throw OpError.invalidConfiguration(
                kernel: "quantized matmul", detail: "path \(path) does not read the \(weights.layout) layout")
        case .interleavedGEMV:
            break
        case .fused(.direct):
            throw OpError.invalidConfiguration(
                kernel: "quantized matmul", detail: "the direct kernel does not read quantized weights")
        case .fused(let config):
            try config.validate(for: gemm.backend.device, shapeClass: GEMMShapeClass(problem))
        case .nibbleGEMV(let workGroup):
            guard weights.format.bits == 4, workGroup >= 1, workGroup <= gemm.backend.device.maxWorkGroupSize else {
                throw OpError.invalidConfiguration(
                    kernel: "quant_gemv_q4",
                    detail:
                        "needs 4-bit weights and a work-group of 1…\(gemm.backend.device.maxWorkGroupSize), got \(weights.format), \(workGroup)"
                )
            }
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
        case .interleavedGEMV:
            return try encodeInterleaved(x: input, weights: weights, y: y, rows: rows, first: first)
        case .nibbleGEMV(let workGroup):
            let pairs = (k / 32 + 1) / 2
            return try permuted.withTensor(count: rows * pairs * 64, backend: backend) { xp in
                try blockSums.withTensor(count: rows * k / 32, backend: backend) { xs in
                    let precision = "-DA_HALF=\(input.elementType == .float16 ? 1 : 0)"
                    let prepare = try backend.kernel(.quantPrepareXPairs, options: precision)
                    let prepared = try backend.queue.enqueue(
                        prepare, global: [pairs, rows],
                        arguments: [Int32(rows), Int32(k), input.argument, xp.argument, xs.argument])
                    let rowsPerPass = min(4, nextPowerOfTwo(rows))
                    let kernel = try backend.kernel(
                        .quantGemvQ4,
                        options: "-DMR=\(rowsPerPass) -DQGROUP=\(weights.format.groupSize) -DWGN=\(workGroup) "
                            + precision)
                    let event = try backend.queue.enqueue(
                        kernel, global: [roundUp(n, workGroup)], local: [workGroup],
                        arguments: [
                            Int32(rows), Int32(n), Int32(k), xp.argument, xs.argument,
                        ] + weights.kernelArguments + [y.argument])
                    return EventSpan(first: first ?? prepared, last: event)
                }
            }
        }
    }

    private func encodeInterleaved(
        x: DeviceTensor, weights: DeviceQuantizedMatrix, y: DeviceTensor, rows: Int, first: Event?
    ) throws -> EventSpan {
        let backend = gemm.backend, k = weights.columns
        let precision = "-DA_HALF=\(x.elementType == .float16 ? 1 : 0)"
        let rowsPerPass = min(16, nextPowerOfTwo(rows))
        let kernel = try backend.kernel(
            .quantGemvInterleaved,
            options: "\(weights.interleavedOptions) -DMR=\(rowsPerPass) " + (weights.format.bits == 4 ? "" : precision))
        guard case .interleaved(let tile) = weights.layout else {
            preconditionFailure("interleaved GEMV on the blocks layout")
        }
        func launch(input: DeviceTensor, blockSums: any KernelArgument, prepared: Event?) throws -> EventSpan {
            let event = try backend.queue.enqueue(
                kernel, global: [weights.paddedRows], local: [tile],
                arguments: [
                    Int32(rows), Int32(weights.rows), Int32(k), input.argument, blockSums,
                ] + weights.kernelArguments + [y.argument])
            return EventSpan(first: first ?? prepared ?? event, last: event)
        }
        guard weights.format.bits == 4 else { return try launch(input: x, blockSums: x.argument, prepared: nil) }
        // 4-bit weights read activations permuted to the nibble order, with per-block sums.
        return try permuted.withTensor(count: rows * k, backend: backend) { xp in
            try blockSums.withTensor(count: rows * k / 32, backend: backend) { xs in
                let prepare = try backend.kernel(.quantPrepareX, options: precision)
                let prepared = try backend.queue.enqueue(
                    prepare, global: [k / 32, rows],
                    arguments: [Int32(rows), Int32(k), x.argument, xp.argument, xs.argument])
                return try launch(input: xp, blockSums: xs.argument, prepared: prepared)
            }
        }
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
