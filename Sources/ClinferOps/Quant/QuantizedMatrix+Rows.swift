/// Row access for model code: embedding lookups read single rows, and fused projections stack
/// several weight matrices into one so a single matmul launch computes them all.
extension QuantizedMatrix {
    /// Row `index` dequantized (an embedding lookup without dequantizing the whole table).
    public func row(_ index: Int) throws(OpError) -> [Float] {
        guard (0..<rows).contains(index) else {
            throw .invalidArgument(op: "QuantizedMatrix.row", detail: "row \(index) of \(rows)")
        }
        guard format.ggufBlockBytes != nil else {
            let all = dequantized()
            return Array(all[index * columns..<(index + 1) * columns])
        }
        var (offset, first) = (0, 0)
        var rowFormat = format
        for segment in segments {
            if index < first + segment.rows {
                rowFormat = segment.format
                offset += (index - first) * segment.format.storageBytes(rows: 1, columns: columns)
                break
            }
            offset += segment.format.storageBytes(rows: segment.rows, columns: columns)
            first += segment.rows
        }
        let (blockBytes, blockElements) = (rowFormat.ggufBlockBytes!, rowFormat.ggufBlockElements!)
        var out = [Float](repeating: 0, count: columns)
        out.withUnsafeMutableBufferPointer { y in
            data.withUnsafeBytes { bytes in
                for block in 0..<(columns / blockElements) {
                    let start = offset + block * blockBytes
                    GGUFBlocks.decode(
                        UnsafeRawBufferPointer(rebasing: bytes[start..<start + blockBytes]), format: rowFormat,
                        into: y.baseAddress! + block * blockElements)
                }
            }
        }
        return out
    }

    /// The matrices stacked along rows ([Σ rows, columns]), each part's rows kept in its own GGUF
    /// format. The parts must share a column count and a device form (encoding and scale group:
    /// Q5_0 and Q8_0 stack, Q4_K and Q6_K do not), so the stacked matrix stays quantized on every
    /// device; anything else throws rather than widening to fp32.
    public static func stackingRows(_ parts: [QuantizedMatrix]) throws(OpError) -> QuantizedMatrix {
        guard let first = parts.first else {
            throw .invalidArgument(op: "QuantizedMatrix.stackingRows", detail: "no matrices")
        }
        guard first.format.ggufBlockBytes != nil,
            parts.allSatisfy({
                $0.deviceEncoding == first.deviceEncoding && $0.deviceGroupSize == first.deviceGroupSize
                    && $0.columns == first.columns && $0.inputScale == nil
            })
        else {
            throw .shapeMismatch(
                op: "QuantizedMatrix.stackingRows",
                detail: "matrices \(parts.map { "\($0.format) [\($0.rows), \($0.columns)]" }.joined(separator: ", ")) "
                    + "do not share a column count and a device encoding")
        }
        var segments: [Segment] = []
        for segment in parts.flatMap(\.segments) {
            if let last = segments.last, last.format == segment.format {
                segments[segments.count - 1] = Segment(format: last.format, rows: last.rows + segment.rows)
            } else {
                segments.append(segment)
            }
        }
        return QuantizedMatrix(
            segments: segments, columns: first.columns, data: parts.flatMap(\.data), groupScales: [], groupZeros: [],
            inputScale: nil)
    }

    /// A matrix of random blocks (finite fp16 scales, random quants): for tests and benchmarks of
    /// formats Clinfer reads but does not quantize to.
    public static func randomBlocks(
        format: QuantFormat, rows: Int, columns: Int, seed: UInt64
    ) throws(OpError)
        -> QuantizedMatrix
    {
        try checkShape(format: format, rows: rows, columns: columns)
        guard let blockBytes = format.ggufBlockBytes else {
            throw .unsupportedType(op: "QuantizedMatrix.randomBlocks", detail: "\(format) is not a GGUF block format")
        }
        var random = SplitMix64(seed: seed)
        var bytes = (0..<format.storageBytes(rows: rows, columns: columns)).map { _ in
            UInt8(truncatingIfNeeded: random.next())
        }
        for block in stride(from: 0, to: bytes.count, by: blockBytes) {
            for offset in format.ggufHalfOffsets {
                // Scales of 2^-9 … 2^-6 keep dot products over a few thousand values near 1.
                let scale = Float16(Float(random.next() % 1024 + 256) / 131_072)
                bytes[block + offset] = UInt8(scale.bitPattern & 0xFF)
                bytes[block + offset + 1] = UInt8(scale.bitPattern >> 8)
            }
        }
        return try QuantizedMatrix(ggufBytes: bytes, format: format, rows: rows, columns: columns)
    }
}
