/// Row access for model code: embedding lookups read single rows, and fused projections stack
/// several weight matrices into one so a single matmul launch computes them all.
extension QuantizedMatrix {
    /// Row `index` dequantized (an embedding lookup without dequantizing the whole table).
    public func row(_ index: Int) throws(OpError) -> [Float] {
        guard (0..<rows).contains(index) else {
            throw .invalidArgument(op: "QuantizedMatrix.row", detail: "row \(index) of \(rows)")
        }
        guard let blockBytes = format.ggufBlockBytes else {
            let all = dequantized()
            return Array(all[index * columns..<(index + 1) * columns])
        }
        var out = [Float](repeating: 0, count: columns)
        let rowBytes = columns / 32 * blockBytes
        out.withUnsafeMutableBufferPointer { y in
            data.withUnsafeBytes { bytes in
                for block in 0..<(columns / 32) {
                    let start = index * rowBytes + block * blockBytes
                    GGUFBlocks.decode(
                        UnsafeRawBufferPointer(rebasing: bytes[start..<start + blockBytes]), format: format,
                        into: y.baseAddress! + block * 32)
                }
            }
        }
        return out
    }

    /// The matrices stacked along rows ([Σ rows, columns]): one GGUF format and column count.
    public static func stackingRows(_ parts: [QuantizedMatrix]) throws(OpError) -> QuantizedMatrix {
        guard let first = parts.first else {
            throw .invalidArgument(op: "QuantizedMatrix.stackingRows", detail: "no matrices")
        }
        guard first.format.ggufBlockBytes != nil,
            parts.allSatisfy({ $0.format == first.format && $0.columns == first.columns && $0.inputScale == nil })
        else {
            throw .shapeMismatch(
                op: "QuantizedMatrix.stackingRows", detail: "matrices must share one GGUF format and column count")
        }
        return try QuantizedMatrix(
            ggufBytes: parts.flatMap(\.data), format: first.format, rows: parts.reduce(0) { $0 + $1.rows },
            columns: first.columns)
    }
}
