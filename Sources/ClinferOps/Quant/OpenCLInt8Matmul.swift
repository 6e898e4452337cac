import OpenCLKit

/// An ``Int8Matrix`` on a device: int8 quants [N, K] and fp32 per-row scales.
public final class DeviceInt8Matrix: Sendable {
    public let rows: Int
    public let columns: Int
    let quants: Buffer<Int8>
    let scales: Buffer<Float>

    public init(backend: OpenCLBackend, copying matrix: Int8Matrix) throws(CLError) {
        rows = matrix.rows
        columns = matrix.columns
        quants = try backend.context.buffer(copying: matrix.quants, access: .readOnly)
        scales = try backend.context.buffer(copying: matrix.scales, access: .readOnly)
    }
}

/// LLM.int8() on an OpenCL device with `Kernels/int8_matmul.cl`: outlier columns are found on
/// the device and their indices read back (K flags, one small transfer), rows are quantized
/// with a work-group max reduction, then one kernel sums the int8 and the fp32 outlier parts.
public final class OpenCLInt8Matmul: Int8MatmulOperation {
    public let backend: OpenCLBackend
    /// int8 vector width (4, 8 or 16), outputs per work-item, row-quantize work-group size.
    public let vectorWidth: Int, outputsPerItem: Int, rowGroupSize: Int

    public init(
        backend: OpenCLBackend, vectorWidth: Int = 16, outputsPerItem: Int = 4, rowGroupSize: Int? = nil
    ) throws(OpError) {
        let group = rowGroupSize ?? min(64, backend.device.maxWorkGroupSize)
        guard [4, 8, 16].contains(vectorWidth), (1...16).contains(outputsPerItem),
            group >= 1, group & (group - 1) == 0, group <= backend.device.maxWorkGroupSize
        else {
            throw .invalidConfiguration(
                kernel: "int8_matmul",
                detail:
                    "VW \(vectorWidth) (4, 8, 16), NR \(outputsPerItem) (1…16), WG \(group) (power of two ≤ device max)"
            )
        }
        self.backend = backend
        self.vectorWidth = vectorWidth
        self.outputsPerItem = outputsPerItem
        self.rowGroupSize = group
    }

    private var options: String { "-DVW=\(vectorWidth) -DNR=\(outputsPerItem) -DWG=\(rowGroupSize)" }

    public func matmul(x: DeviceTensor, weights: DeviceInt8Matrix, y: DeviceTensor, rows: Int, threshold: Float) throws
    {
        let (n, k) = (weights.rows, weights.columns)
        try validateInt8Matmul(x: x, y: y, rows: rows, n: n, k: k, threshold: threshold)
        let context = backend.context, queue = backend.queue
        let flags = try context.buffer(Int32.self, count: k)
        var outliers: [Int32] = []
        if threshold > 0 {
            let detect = try backend.kernel(.int8OutlierColumns, options: options)
            try queue.enqueue(detect, global: [k], arguments: [Int32(rows), Int32(k), x.argument, threshold, flags])
            outliers = try queue.read(flags).enumerated().filter { $0.element != 0 }.map { Int32($0.offset) }
        } else {
            try queue.fill(flags, with: 0)
        }
        let quantized = try context.buffer(Int8.self, count: rows * k)
        let rowScales = try context.buffer(Float.self, count: rows)
        let quantize = try backend.kernel(.int8QuantizeRows, options: options)
        try queue.enqueue(
            quantize, global: [rows * rowGroupSize], local: [rowGroupSize],
            arguments: [Int32(k), x.argument, flags, quantized, rowScales])
        let indices = try context.buffer(copying: outliers.isEmpty ? [Int32(0)] : outliers, access: .readOnly)
        let multiply = try backend.kernel(.int8Matmul, options: options)
        try queue.enqueue(
            multiply, global: [rows, ceilDiv(n, outputsPerItem)],
            arguments: [
                Int32(rows), Int32(n), Int32(k), quantized, rowScales, weights.quants, weights.scales, x.argument,
                Int32(outliers.count), indices, y.argument,
            ])
    }
}
