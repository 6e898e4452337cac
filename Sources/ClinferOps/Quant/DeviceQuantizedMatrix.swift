import OpenCLKit

/// A quantized weight matrix uploaded to a device, re-laid out for the kernels: quants row-major
/// in one contiguous array (GGUF block headers stripped, so loads are aligned), and fp32
/// per-group scale d and offset m (value = q·d + m) in two more; scales are converted from fp16
/// once here, not in every kernel (`vload_half` is a software routine on some drivers). One
/// layout for every device: the fused GEMM loaders (`B_QUANT`) and the decode GEMV
/// (`Kernels/quant_gemv.cl`, coalesced on GPUs through its lanes per row) read it.
public final class DeviceQuantizedMatrix: Sendable {
    public let format: QuantFormat
    public let rows: Int
    public let columns: Int
    let quants: Buffer<UInt8>
    let d: Buffer<Float>
    let m: Buffer<Float>
    /// The device form: quant encoding, elements per scale group, offsets read or not.
    let encoding: QuantFormat.DeviceEncoding
    let groupSize: Int
    let hasOffset: Bool
    /// 1 / inputScale, when the matrix has a folded input scale.
    let inverseInputScale: Buffer<Float>?

    public init(backend: OpenCLBackend, copying matrix: QuantizedMatrix) throws(CLError) {
        format = matrix.format
        rows = matrix.rows
        columns = matrix.columns
        let parts = matrix.deviceLayout()
        quants = try backend.context.buffer(copying: parts.quants, access: .readOnly)
        d = try backend.context.buffer(copying: parts.d, access: .readOnly)
        m = matrix.hasOffset ? try backend.context.buffer(copying: parts.m, access: .readOnly) : d
        hasOffset = matrix.hasOffset
        encoding = matrix.deviceEncoding
        groupSize = matrix.deviceGroupSize
        if let scale = matrix.inputScale {
            inverseInputScale = try backend.context.buffer(copying: scale.map { 1 / $0 }, access: .readOnly)
        } else {
            inverseInputScale = nil
        }
    }

    /// Bytes the kernels read per pass over the weights (quants, d, and m where used).
    public var deviceBytes: Int { quants.byteCount + d.byteCount + (hasOffset ? m.byteCount : 0) }

    /// The `-D` options that make the kernels read this matrix (`B_QUANT` for the GEMM loaders,
    /// `QBITS` for the GEMV; see `Kernels/gemm_common.h` and `Kernels/quant_gemv.cl`).
    var buildOptions: String {
        "-DB_QUANT=\(encoding == .bytes ? 1 : 2) -DQBITS=\(encoding == .bytes ? 8 : 4) -DQGROUP=\(groupSize) "
            + "-DQOFFSET=\(hasOffset ? 1 : 0)"
    }

    var kernelArguments: [any KernelArgument] { [quants, d, m] }

    /// Enqueues the dequantization of the whole matrix into `target` (fp32, rows·columns).
    func dequantize(into target: DeviceTensor, backend: OpenCLBackend) throws -> Event {
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
