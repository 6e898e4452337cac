import OpenCLKit
import Synchronization

/// Quantized matmul on an OpenCL device, two paths (see ``Path``):
/// - fused: the GEMM kernels for B stored [N, K] compiled to read quantized B (`B_QUANT`, see
///   `Kernels/gemm_common.h`), dequantizing in registers and accumulating in fp32. The decode
///   path (M ≤ 16, skinny kernel: each weight byte read once per row block);
/// - dequantize then GEMM: for prefill (M > 16) the weights are expanded to fp32 once into
///   scratch memory and the tuned fp32 GEMM runs; one pass of N·K writes is small next to
///   M·N·K multiply-adds, and the fp32 kernels are the fastest the device has.
public final class OpenCLQuantizedMatmul: QuantizedMatmulOperation {
    public let gemm: OpenCLGEMM
    /// Activations divided by a folded input scale.
    private let scaled = Mutex<DeviceTensor?>(nil)

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
        if case .direct = config { return GEMMTuningTable.builtInDefaults(for: device).config(for: .ntSkinny, device: device) }
        return config
    }

    /// How one matmul runs.
    public enum Path: Sendable, Hashable {
        /// The GEMM kernel with this configuration reads the quantized weights directly.
        case fused(GEMMKernelConfig)
        /// Dequantize into scratch memory, then the fp32 GEMM with its planned configuration.
        case dequantizeThenGEMM
    }

    /// The path used for `rows` rows of x: fused for M ≤ 16 (decode), else dequantize then GEMM.
    public func plan(rows: Int, k: Int, n: Int) -> Path {
        rows <= GEMMShapeClass.skinnyMaxM ? .fused(decodeConfig) : .dequantizeThenGEMM
    }

    public func matmul(x: DeviceTensor, weights: DeviceQuantizedMatrix, y: DeviceTensor, rows: Int) throws {
        try encode(x: x, weights: weights, y: y, rows: rows)
    }

    /// Enqueues y = x · Wᵀ on the planned path, or `path`, without waiting.
    @discardableResult
    public func encode(x: DeviceTensor, weights: DeviceQuantizedMatrix, y: DeviceTensor, rows: Int,
                       path: Path? = nil) throws -> EventSpan {
        let (n, k) = (weights.rows, weights.columns)
        try validateQuantizedMatmul(x: x, y: y, rows: rows, n: n, k: k)
        let problem = GEMMProblem(m: rows, n: n, k: k, transposeB: true)
        let path = path ?? plan(rows: rows, k: k, n: n)
        if case .fused(let config) = path {
            if case .direct = config {
                throw OpError.invalidConfiguration(kernel: "quantized matmul", detail: "the direct kernel does not read quantized weights")
            }
            try config.validate(for: gemm.backend.device, shapeClass: GEMMShapeClass(problem))
        }
        var input = x, first: Event?
        if let inverse = weights.inverseInputScale {
            (input, first) = try divideByInputScale(x, inverse: inverse, rows: rows, k: k)
        }
        switch path {
        case .fused(let config):
            let event = try gemm.launch(problem, config: config, a: input, b: weights.kernelArguments, bOptions: weights.buildOptions, c: y)
            return EventSpan(first: first ?? event, last: event)
        case .dequantizeThenGEMM:
            let dense = try gemm.scratchTensor(count: n * k)
            let expand = try weights.dequantize(into: dense, backend: gemm.backend)
            let span = try gemm.encode(problem, a: input, b: dense, c: y)
            return EventSpan(first: first ?? expand, last: span.last)
        }
    }

    private func divideByInputScale(_ x: DeviceTensor, inverse: Buffer<Float>, rows: Int, k: Int) throws -> (DeviceTensor, Event) {
        let backend = gemm.backend
        let target = try scaled.withLock { scratch throws -> DeviceTensor in
            if let existing = scratch, existing.count == rows * k { return existing }
            let fresh = try DeviceTensor(backend: backend, count: rows * k)
            scratch = fresh
            return fresh
        }
        let kernel = try backend.kernel("quant_scale_columns", file: "quant_scale.cl", options: "-DA_HALF=\(x.elementType == .float16 ? 1 : 0)")
        let event = try backend.queue.enqueue(kernel, global: [k, rows], arguments: [Int32(rows), Int32(k), x.argument, inverse, target.argument])
        return (target, event)
    }
}
