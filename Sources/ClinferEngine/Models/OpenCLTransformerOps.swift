import ClinferOps
import OpenCLKit
import Synchronization

/// The forward pass on an OpenCL device: every op is enqueued on one in-order queue, so a whole
/// token's kernels run back to back and only the logits read waits.
public final class OpenCLTransformerOps: TransformerOps {
    public enum Weight: Sendable {
        case quantized(DeviceQuantizedMatrix)
        case dense(DeviceTensor, rows: Int, columns: Int)
    }

    public let backend: OpenCLBackend
    private let gemm: OpenCLGEMM
    private let quantized: OpenCLQuantizedMatmul
    public let attention: OpenCLAttention
    public let norm: OpenCLNorm
    public let activations: OpenCLActivation
    public let qkvSplit: OpenCLQKVSplit
    /// RoPE ops by table (positions, head dimension, base): a model with two bases keeps two.
    private let ropes = Mutex<[String: OpenCLRoPE]>([:])

    /// `mode`: how decode matmuls over 4-bit weights read x (``GEMVActivations``).
    public init(backend: OpenCLBackend, activations mode: GEMVActivations = .default) throws {
        self.backend = backend
        gemm = OpenCLGEMM(backend: backend)
        quantized = OpenCLQuantizedMatmul(gemm: gemm, activations: mode)
        // Decode splits the cache into 64-key ranges: enough work-items to fill a device at short contexts.
        attention = try OpenCLAttention(backend: backend, keysPerSplit: 64, tuning: gemm.tuning)
        norm = try OpenCLNorm(backend: backend)
        activations = OpenCLActivation(backend: backend)
        qkvSplit = OpenCLQKVSplit(backend: backend)
    }

    public var name: String { "opencl: \(backend.device.name)" }

    public func tensor(count: Int) throws -> DeviceTensor { try DeviceTensor(backend: backend, count: count) }

    public func cacheTensor(count: Int) throws -> DeviceTensor {
        let tensor = try DeviceTensor(backend: backend, count: count)
        try backend.queue.fill(tensor.float32Storage, with: 0)
        return tensor
    }

    public func constant(_ values: [Float]) throws -> DeviceTensor {
        try DeviceTensor(backend: backend, copying: HostTensor(values))
    }

    public func write(_ values: [Float], to tensor: DeviceTensor) throws {
        try tensor.upload(HostTensor(values), backend.queue)
    }

    public func read(_ tensor: DeviceTensor) throws -> [Float] { try tensor.download(backend.queue).floats }

    public func copy(
        _ source: DeviceTensor, offset: Int, count: Int, to destination: DeviceTensor, at destinationOffset: Int
    ) throws {
        try backend.queue.copy(
            from: source.float32Storage, sourceOffset: offset, to: destination.float32Storage,
            destinationOffset: destinationOffset, count: count)
    }

    public func weight(_ weight: LinearWeight) throws -> Weight {
        switch weight {
        case .quantized(let matrix):
            .quantized(try DeviceQuantizedMatrix(backend: backend, copying: matrix))
        case .dense(let values, let rows, let columns): .dense(try constant(values), rows: rows, columns: columns)
        }
    }

    public func matmul(_ x: DeviceTensor, _ weight: Weight, _ y: DeviceTensor, rows: Int) throws {
        switch weight {
        case .quantized(let matrix):
            try quantized.encode(x: x, weights: matrix, y: y, rows: rows)
        case .dense(let matrix, let n, let k):
            try gemm.encode(GEMMProblem(m: rows, n: n, k: k, transposeB: true), a: x, b: matrix, c: y)
        }
    }

    /// Quantized weights in decode run the GEMV with the gated epilogue (one launch, no
    /// [rows, 2·width] intermediate); everything else runs the projection and the activation apart.
    public func gatedProjection(
        _ gate: GatedActivation, _ x: DeviceTensor, _ weight: Weight, gateUp: DeviceTensor, out: DeviceTensor,
        rows: Int, width: Int
    ) throws {
        if case .quantized(let matrix) = weight, matrix.rows == 2 * width,
            try quantized.encodeGated(gate, x: x, weights: matrix, y: out, rows: rows) != nil
        {
            return
        }
        try matmul(x, weight, gateUp, rows: rows)
        try activations.gated(gate, tokens: rows, width: width, gateUp: gateUp, out: out)
    }

    /// Decode steps over 4-bit weights run the fused GEMV (`Kernels/quant_gemv_dot.cl`): the
    /// RMSNorm as its prologue, the residual add or the gated activation as its epilogue.
    public func fusesDecode(projections: [Weight], gated: Weight, rows: Int) -> Bool {
        func fuses(_ weight: Weight, gated: Bool) -> Bool {
            guard case .quantized(let matrix) = weight else { return false }
            return quantized.fuses(matrix, rows: rows, gated: gated)
        }
        return projections.allSatisfy { fuses($0, gated: false) } && fuses(gated, gated: true)
    }

    public func normalizedMatmul(
        _ norm: NormProblem, x: DeviceTensor, normWeight: DeviceTensor, _ weight: Weight, _ y: DeviceTensor, rows: Int,
        normed: DeviceTensor
    ) throws {
        guard norm.kind == .rms, case .quantized(let matrix) = weight, quantized.fusible(matrix, rows: rows) else {
            try normalize(norm, x: x, residual: nil, weight: normWeight, bias: nil, out: normed)
            return try matmul(normed, weight, y, rows: rows)
        }
        try quantized.encodeFused(
            x: x, weights: matrix, y: y, rows: rows, fusion: GEMVFusion(norm: (normWeight, norm.eps)))
    }

    public func normalizedGatedProjection(
        _ gate: GatedActivation, _ norm: NormProblem, x: DeviceTensor, normWeight: DeviceTensor, _ weight: Weight,
        gateUp: DeviceTensor, out: DeviceTensor, rows: Int, width: Int, normed: DeviceTensor
    ) throws {
        guard norm.kind == .rms, case .quantized(let matrix) = weight, matrix.rows == 2 * width,
            quantized.fusible(matrix, rows: rows, gated: true)
        else {
            try normalize(norm, x: x, residual: nil, weight: normWeight, bias: nil, out: normed)
            return try gatedProjection(gate, normed, weight, gateUp: gateUp, out: out, rows: rows, width: width)
        }
        try quantized.encodeFused(
            x: x, weights: matrix, y: out, rows: rows, gate: gate, fusion: GEMVFusion(norm: (normWeight, norm.eps)))
    }

    public func residualMatmul(
        _ a: DeviceTensor, _ weight: Weight, residual: DeviceTensor, rows: Int, scratch: DeviceTensor
    ) throws {
        guard case .quantized(let matrix) = weight, quantized.fusible(matrix, rows: rows) else {
            try matmul(a, weight, scratch, rows: rows)
            return try add(residual, scratch)
        }
        try quantized.encodeFused(x: a, weights: matrix, y: residual, rows: rows, fusion: GEMVFusion(residual: true))
    }

    public func rope(
        _ problem: RoPEProblem, table: RoPETable, qkv: DeviceTensor, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor,
        qNorm: DeviceTensor?, kNorm: DeviceTensor?
    ) throws {
        let key = "\(table.positions) \(table.headDim) \(table.base)"
        let op = try ropes.withLock { cache throws -> OpenCLRoPE in
            if let op = cache[key] { return op }
            let op = try OpenCLRoPE(backend: backend, table: table)
            cache[key] = op
            return op
        }
        try op.encode(problem, qkv: qkv, q: q, k: k, v: v, qNorm: qNorm, kNorm: kNorm)
    }
}
