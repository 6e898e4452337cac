import OpenCLKit

/// A quantized weight matrix uploaded to a device, re-laid out for the kernels: quants in one
/// contiguous array (GGUF block headers stripped, so loads are aligned), and fp32 per-group
/// scale d and offset m (value = q·d + m) in two more; scales are converted from fp16 once here,
/// not in every kernel (`vload_half` is a software routine on some drivers).
public final class DeviceQuantizedMatrix: Sendable {
    /// How the quants and scales are arranged on the device.
    public enum Layout: Sendable, Hashable {
        /// Row-major, as in the file (headers stripped): read by the fused GEMM loaders
        /// (`B_QUANT`) and the nibble GEMV.
        case blocks
        /// Rows in tiles of `tile`, word w of every row of a tile together
        /// (`Kernels/quant_interleaved.cl`): coalesced decode GEMV reads.
        case interleaved(tile: Int)
    }

    public let format: QuantFormat
    public let rows: Int
    public let columns: Int
    public let layout: Layout
    let quants: Buffer<UInt8>
    let d: Buffer<Float>
    let m: Buffer<Float>
    /// 1 / inputScale, when the matrix has a folded input scale.
    let inverseInputScale: Buffer<Float>?

    public init(backend: OpenCLBackend, copying matrix: QuantizedMatrix, layout: Layout = .blocks) throws(CLError) {
        format = matrix.format
        rows = matrix.rows
        columns = matrix.columns
        self.layout = layout
        switch layout {
        case .blocks:
            let parts = matrix.deviceLayout()
            quants = try backend.context.buffer(copying: parts.quants, access: .readOnly)
            d = try backend.context.buffer(copying: parts.d, access: .readOnly)
            m = matrix.format == .q8_0 ? d : try backend.context.buffer(copying: parts.m, access: .readOnly)
        case .interleaved(let tile):
            guard tile >= 1, tile <= backend.device.maxWorkGroupSize else {
                throw CLError(
                    code: CLError.invalidValue, call: "DeviceQuantizedMatrix",
                    detail: "interleave tile \(tile) must be 1…\(backend.device.maxWorkGroupSize)")
            }
            let parts = matrix.interleavedLayout(tile: tile)
            quants = try backend.context.buffer(copying: parts.words.withUnsafeBytes { Array($0) }, access: .readOnly)
            d = try backend.context.buffer(copying: parts.d, access: .readOnly)
            m = try backend.context.buffer(copying: parts.m, access: .readOnly)
        }
        if let scale = matrix.inputScale {
            inverseInputScale = try backend.context.buffer(copying: scale.map { 1 / $0 }, access: .readOnly)
        } else {
            inverseInputScale = nil
        }
    }

    /// Bytes the kernels read per pass over the weights (quants, d, and m where used).
    public var deviceBytes: Int { quants.byteCount + d.byteCount + (format == .q8_0 ? 0 : m.byteCount) }

    /// The `-D` options that make the GEMM kernels read this matrix.
    var buildOptions: String { "-DB_QUANT=\(format == .q8_0 ? 1 : 2) -DQGROUP=\(format.groupSize)" }

    var kernelArguments: [any KernelArgument] { [quants, d, m] }

    /// The `-D` options of `Kernels/quant_interleaved.cl` for this matrix (interleaved layout).
    var interleavedOptions: String {
        guard case .interleaved(let tile) = layout else { return "" }
        return "-DQBITS=\(format.bits) -DQGROUP=\(format.groupSize) -DW=\(tile)"
    }

    /// Rows padded to whole interleave tiles.
    var paddedRows: Int {
        guard case .interleaved(let tile) = layout else { return rows }
        return (rows + tile - 1) / tile * tile
    }

    /// Enqueues the dequantization of the whole matrix into `target` (fp32, rows·columns).
    func dequantize(into target: DeviceTensor, backend: OpenCLBackend) throws -> Event {
        if case .interleaved = layout {
            let kernel = try backend.kernel(.quantDequantizeInterleaved, options: interleavedOptions)
            return try backend.queue.enqueue(
                kernel, global: [rows, columns / 32],
                arguments: [Int32(rows), Int32(columns)] + kernelArguments + [target.argument])
        }
        let kernel = try backend.kernel(.gemmDequantizeB, options: buildOptions)
        let count = rows * columns
        return try backend.queue.enqueue(
            kernel, global: [count / 16], arguments: [Int32(count)] + kernelArguments + [target.argument])
    }

    /// The matrix dequantized on the device: the read-back path tests compare with
    /// ``QuantizedMatrix/dequantized()`` (the input scale stays folded in, as on the host).
    public func dequantized(_ backend: OpenCLBackend) throws -> [Float] {
        let target = try DeviceTensor(backend: backend, count: rows * columns)
        try dequantize(into: target, backend: backend).wait()
        return try target.download(backend.queue).floats
    }
}
