/// A quantized weight matrix [rows = N, columns = K] in host memory, in its storage format:
/// GGUF blocks (bit-exact with llama.cpp) or Clinfer's group-wise int4.
///
/// Quantize from floats, adopt bytes read from a GGUF file, dequantize back, and upload with
/// ``DeviceQuantizedMatrix``.
public struct QuantizedMatrix: Sendable {
    public let format: QuantFormat
    public let rows: Int
    public let columns: Int
    /// GGUF formats: the blocks, row by row. `int4`: the nibbles, `columns / 2` bytes a row.
    public let data: [UInt8]
    /// `int4` only: fp16 scales, `columns / groupSize` per row.
    public let groupScales: [Float16]
    /// `int4` only: zero points (0...15), one per group.
    public let groupZeros: [UInt8]
    /// Optional per-input-channel scales folded into the weights at quantization (the AWQ
    /// trick): the stored matrix is W·diag(s), so a matmul divides the activations by s.
    public let inputScale: [Float]?

    /// Adopts quantized bytes as stored in a GGUF file (Q8_0, Q4_0 or Q4_1).
    public init(ggufBytes: [UInt8], format: QuantFormat, rows: Int, columns: Int) throws(OpError) {
        try Self.checkShape(format: format, rows: rows, columns: columns)
        guard let blockBytes = format.ggufBlockBytes else {
            throw .unsupportedType(op: "QuantizedMatrix", detail: "\(format) is not a GGUF block format")
        }
        let expected = rows * (columns / 32) * blockBytes
        guard ggufBytes.count == expected else {
            throw .shapeMismatch(
                op: "QuantizedMatrix",
                detail: "\(format) [\(rows), \(columns)] needs \(expected) bytes, got \(ggufBytes.count)")
        }
        self.init(
            format: format, rows: rows, columns: columns, data: ggufBytes, groupScales: [], groupZeros: [],
            inputScale: nil)
    }

    /// Quantizes row-major `values` [rows, columns]. With `inputScale` (length `columns`, all
    /// positive), column k is multiplied by `inputScale[k]` before quantizing.
    public init(
        quantizing values: [Float], rows: Int, columns: Int, format: QuantFormat, inputScale: [Float]? = nil
    ) throws(OpError) {
        try Self.checkShape(format: format, rows: rows, columns: columns)
        guard values.count == rows * columns else {
            throw .shapeMismatch(
                op: "QuantizedMatrix", detail: "\(values.count) values for a [\(rows), \(columns)] matrix")
        }
        guard values.allSatisfy(\.isFinite) else {
            throw .invalidArgument(op: "QuantizedMatrix", detail: "cannot quantize NaN or infinite values")
        }
        var scaled = values
        if let inputScale {
            guard inputScale.count == columns, inputScale.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw .invalidArgument(
                    op: "QuantizedMatrix", detail: "inputScale needs \(columns) positive finite values")
            }
            for row in 0..<rows { for column in 0..<columns { scaled[row * columns + column] *= inputScale[column] } }
        }
        var data: [UInt8] = [], scales: [Float16] = [], zeros: [UInt8] = []
        data.reserveCapacity(format.storageBytes(rows: rows, columns: columns))
        scaled.withUnsafeBufferPointer { all in
            for group in stride(from: 0, to: all.count, by: format.groupSize) {
                let x = UnsafeBufferPointer(rebasing: all[group..<group + format.groupSize])
                if case .int4 = format {
                    GroupInt4.encode(x, into: &data, scales: &scales, zeros: &zeros)
                } else {
                    GGUFBlocks.encode(x, format: format, into: &data)
                }
            }
        }
        self.init(
            format: format, rows: rows, columns: columns, data: data, groupScales: scales, groupZeros: zeros,
            inputScale: inputScale)
    }

    private init(
        format: QuantFormat, rows: Int, columns: Int, data: [UInt8], groupScales: [Float16], groupZeros: [UInt8],
        inputScale: [Float]?
    ) {
        self.format = format
        self.rows = rows
        self.columns = columns
        self.data = data
        self.groupScales = groupScales
        self.groupZeros = groupZeros
        self.inputScale = inputScale
    }

    static func checkShape(format: QuantFormat, rows: Int, columns: Int) throws(OpError) {
        guard rows >= 1, columns >= 1 else {
            throw .invalidArgument(
                op: "QuantizedMatrix", detail: "dimensions must be at least 1, got [\(rows), \(columns)]")
        }
        if case .int4(let groupSize) = format, ![32, 64, 128].contains(groupSize) {
            throw .invalidArgument(
                op: "QuantizedMatrix", detail: "int4 group size must be 32, 64 or 128, got \(groupSize)")
        }
        guard columns % format.groupSize == 0 else {
            throw .shapeMismatch(
                op: "QuantizedMatrix",
                detail: "\(format) needs K to be a multiple of \(format.groupSize), got \(columns)")
        }
    }

    /// The stored matrix as floats [rows, columns] (including the folded input scale, if any).
    public func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: rows * columns)
        out.withUnsafeMutableBufferPointer { y in
            data.withUnsafeBytes { bytes in
                if case .int4 = format {
                    GroupInt4.decode(
                        bytes, scales: groupScales, zeros: groupZeros, groupSize: format.groupSize, into: y)
                } else {
                    let blockBytes = format.ggufBlockBytes!
                    for block in 0..<(rows * columns / 32) {
                        GGUFBlocks.decode(
                            UnsafeRawBufferPointer(rebasing: bytes[block * blockBytes..<(block + 1) * blockBytes]),
                            format: format, into: y.baseAddress! + block * 32)
                    }
                }
            }
        }
        return out
    }

    /// The device layout: quants without headers (int8, or 16 bytes of nibbles per 32 elements)
    /// and fp32 d and m per group such that value = q·d + m.
    func deviceLayout() -> (quants: [UInt8], d: [Float], m: [Float]) {
        if case .int4 = format {
            let d = groupScales.map(Float.init)
            return (data, d, zip(d, groupZeros).map { -Float($1) * $0 })
        }
        var quants: [UInt8] = [], d: [Float] = [], m: [Float] = []
        let blockBytes = format.ggufBlockBytes!
        data.withUnsafeBytes { bytes in
            for block in 0..<(rows * columns / 32) {
                let parts = GGUFBlocks.split(
                    UnsafeRawBufferPointer(rebasing: bytes[block * blockBytes..<(block + 1) * blockBytes]),
                    format: format)
                quants += parts.quants
                d.append(parts.d)
                m.append(parts.m)
            }
        }
        return (quants, d, m)
    }
}
