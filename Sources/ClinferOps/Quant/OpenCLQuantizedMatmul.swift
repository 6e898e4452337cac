import OpenCLKit
import Synchronization

/// Quantized matmul on an OpenCL device: the GEMM kernels for B stored [N, K], compiled to read
/// quantized B (`B_QUANT`, see `Kernels/gemm_common.h`), dequantizing in registers and
/// accumulating in fp32. M ≤ 16 runs the skinny kernel (each weight byte read once per row
/// block), larger M the tiled kernel; both with the GEMM tuning table's configurations.
public final class OpenCLQuantizedMatmul: QuantizedMatmulOperation {
    public let gemm: OpenCLGEMM
    /// Activations divided by a folded input scale.
    private let scaled = Mutex<DeviceTensor?>(nil)

    public init(gemm: OpenCLGEMM) { self.gemm = gemm }

    /// The kernel configuration used for `rows` rows of x.
    public func plan(rows: Int, k: Int, n: Int) -> GEMMKernelConfig {
        let problem = GEMMProblem(m: rows, n: n, k: k, transposeB: true)
        let config = gemm.tuning.config(for: GEMMShapeClass(problem), device: gemm.backend.device)
        if case .direct = config { return GEMMTuningTable.builtInDefaults(for: gemm.backend.device).config(for: .ntLarge, device: gemm.backend.device) }
        return config
    }

    public func matmul(x: DeviceTensor, weights: DeviceQuantizedMatrix, y: DeviceTensor, rows: Int) throws {
        try encode(x: x, weights: weights, y: y, rows: rows)
    }

    /// Enqueues y = x · Wᵀ with the planned configuration, or `config`, without waiting.
    @discardableResult
    public func encode(x: DeviceTensor, weights: DeviceQuantizedMatrix, y: DeviceTensor, rows: Int,
                       config: GEMMKernelConfig? = nil, applyInputScale: Bool = true) throws -> EventSpan {
        let (n, k) = (weights.rows, weights.columns)
        try validateQuantizedMatmul(x: x, y: y, rows: rows, n: n, k: k)
        let problem = GEMMProblem(m: rows, n: n, k: k, transposeB: true)
        let config = config ?? plan(rows: rows, k: k, n: n)
        if case .direct = config {
            throw OpError.invalidConfiguration(kernel: "quantized matmul", detail: "the direct kernel does not read quantized weights")
        }
        try config.validate(for: gemm.backend.device, shapeClass: GEMMShapeClass(problem))
        var input = x, first: Event?
        if applyInputScale, let inverse = weights.inverseInputScale {
            (input, first) = try divideByInputScale(x, inverse: inverse, rows: rows, k: k)
        }
        let event = try gemm.launch(problem, config: config, a: input, b: weights.kernelArguments, bOptions: weights.buildOptions, c: y)
        return EventSpan(first: first ?? event, last: event)
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
