/// A quantized weight matrix [rows = N, columns = K] in host memory, in its storage format:
/// GGUF blocks (bit-exact with llama.cpp) or Clinfer's group-wise int4.
///
/// Quantize from floats, adopt bytes read from a GGUF file, dequantize back, and upload with
/// ``DeviceQuantizedMatrix``. A matrix stacked from several (``stackingRows(_:)``) keeps each
/// part's rows in the part's own GGUF format (``segments``), so Q/K/V projections stored in
/// different formats stay quantized when they share a device encoding.
public struct QuantizedMatrix: Sendable {
    /// The format of the (first) rows; see ``segments`` for a stacked matrix's others.
    public let format: QuantFormat
    public let rows: Int
    public let columns: Int
    /// Consecutive row ranges and their GGUF formats, in order (one segment unless stacked).
    public let segments: [Segment]
    /// GGUF formats: the blocks, row by row. `int4`: the nibbles, `columns / 2` bytes a row.
    public let data: [UInt8]
    /// `int4` only: fp16 scales, `columns / groupSize` per row.
    public let groupScales: [Float16]
    /// `int4` only: zero points (0...15), one per group.
    public let groupZeros: [UInt8]
    /// Optional per-input-channel scales folded into the weights at quantization (the AWQ
    /// trick): the stored matrix is W·diag(s), so a matmul divides the activations by s.
    public let inputScale: [Float]?

    /// Rows stored in one format.
    public struct Segment: Sendable, Hashable {
        public let format: QuantFormat
        public let rows: Int
    }

    /// Adopts quantized bytes as stored in a GGUF file (any format of ``QuantFormat/gguf``).
    public init(ggufBytes: [UInt8], format: QuantFormat, rows: Int, columns: Int) throws(OpError) {
        try Self.checkShape(format: format, rows: rows, columns: columns)
        guard format.ggufBlockBytes != nil else {
            throw .unsupportedType(op: "QuantizedMatrix", detail: "\(format) is not a GGUF block format")
        }
        let expected = format.storageBytes(rows: rows, columns: columns)
        guard ggufBytes.count == expected else {
            throw .shapeMismatch(
                op: "QuantizedMatrix",
                detail: "\(format) [\(rows), \(columns)] needs \(expected) bytes, got \(ggufBytes.count)")
        }
        self.init(
            segments: [Segment(format: format, rows: rows)], columns: columns, data: ggufBytes, groupScales: [],
            groupZeros: [], inputScale: nil)
    }

    /// Quantizes row-major `values` [rows, columns] (Q8_0, Q4_0, Q4_1 or int4). With
    /// `inputScale` (length `columns`, all positive), column k is multiplied by `inputScale[k]`
    /// before quantizing.
    public init(
        quantizing values: [Float], rows: Int, columns: Int, format: QuantFormat, inputScale: [Float]? = nil
    ) throws(OpError) {
        try Self.checkShape(format: format, rows: rows, columns: columns)
        if case .int4 = format {
        } else if !GGUFBlocks.canEncode(format) {
            throw .unsupportedType(op: "QuantizedMatrix", detail: "no quantizer for \(format) (load it from a file)")
        }
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
            segments: [Segment(format: format, rows: rows)], columns: columns, data: data, groupScales: scales,
            groupZeros: zeros, inputScale: inputScale)
    }

    init(
        segments: [Segment], columns: Int, data: [UInt8], groupScales: [Float16], groupZeros: [UInt8],
        inputScale: [Float]?
    ) {
        self.format = segments[0].format
        self.rows = segments.reduce(0) { $0 + $1.rows }
        self.columns = columns
        self.segments = segments
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
        guard columns % format.columnMultiple == 0 else {
            throw .shapeMismatch(
                op: "QuantizedMatrix",
                detail: "\(format) needs K to be a multiple of \(format.columnMultiple), got \(columns)")
        }
        guard rows.multipliedReportingOverflow(by: columns).overflow == false else {
            throw .invalidArgument(op: "QuantizedMatrix", detail: "[\(rows), \(columns)] overflows")
        }
    }

    /// The device encoding every segment shares (see ``stackingRows(_:)``).
    public var deviceEncoding: QuantFormat.DeviceEncoding { format.deviceEncoding }
    /// Elements per scale group on the device, shared by every segment.
    public var deviceGroupSize: Int { format.groupSize }
    /// Whether any segment's device form has offsets.
    public var hasOffset: Bool { segments.contains { $0.format.hasOffset } }

    /// The stored matrix as floats [rows, columns] (including the folded input scale, if any).
    public func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: rows * columns)
        out.withUnsafeMutableBufferPointer { y in
            if case .int4 = format {
                data.withUnsafeBytes { bytes in
                    GroupInt4.decode(
                        bytes, scales: groupScales, zeros: groupZeros, groupSize: format.groupSize, into: y)
                }
            } else {
                forEachBlock { block, format, element in
                    GGUFBlocks.decode(block, format: format, into: y.baseAddress! + element)
                }
            }
        }
        return out
    }

    /// Calls `body(block bytes, format, index of its first element)` for every GGUF block.
    func forEachBlock(_ body: (UnsafeRawBufferPointer, QuantFormat, Int) -> Void) {
        data.withUnsafeBytes { bytes in
            var (offset, element) = (0, 0)
            for segment in segments {
                let (blockBytes, blockElements) = (segment.format.ggufBlockBytes!, segment.format.ggufBlockElements!)
                for _ in 0..<(segment.rows * columns / blockElements) {
                    body(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + blockBytes]), segment.format, element)
                    offset += blockBytes
                    element += blockElements
                }
            }
        }
    }

    /// The device layout: quants without headers in the device encoding (16 bytes of nibbles,
    /// or 32 signed bytes, per 32 elements) and fp32 d and m per group such that value = q·d + m.
    func deviceLayout() -> (quants: [UInt8], d: [Float], m: [Float]) {
        if case .int4 = format {
            let d = groupScales.map(Float.init)
            return (data, d, zip(d, groupZeros).map { -Float($1) * $0 })
        }
        let count = rows * columns, groups = count / deviceGroupSize
        var quants = [UInt8](repeating: 0, count: deviceEncoding == .nibbles ? count / 2 : count)
        var d = [Float](repeating: 0, count: groups), m = [Float](repeating: 0, count: groups)
        var q = [Int32](repeating: 0, count: 256)
        quants.withUnsafeMutableBufferPointer { out in
            d.withUnsafeMutableBufferPointer { d in
                m.withUnsafeMutableBufferPointer { m in
                    q.withUnsafeMutableBufferPointer { q in
                        forEachBlock { block, format, element in
                            let group = element / format.groupSize
                            GGUFBlocks.unpack(
                                block, format: format, q: q.baseAddress!, d: d.baseAddress! + group,
                                m: m.baseAddress! + group)
                            let elements = format.ggufBlockElements!
                            if format.deviceEncoding == .nibbles {
                                for run in stride(from: 0, to: elements, by: 32) {
                                    for j in 0..<16 {
                                        out[(element + run) / 2 + j] = UInt8(q[run + j] | q[run + j + 16] << 4)
                                    }
                                }
                            } else {
                                for j in 0..<elements { out[element + j] = UInt8(truncatingIfNeeded: q[j]) }
                            }
                        }
                    }
                }
            }
        }
        return (quants, d, m)
    }
}
