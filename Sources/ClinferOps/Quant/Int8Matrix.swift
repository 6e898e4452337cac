/// A weight matrix [rows = N, columns = K] for LLM.int8(): int8 values with one fp32 scale per
/// output channel (row), s = max |w| / 127, w ≈ q·s.
public struct Int8Matrix: Sendable {
    public let rows: Int
    public let columns: Int
    public let quants: [Int8]
    public let scales: [Float]

    /// Quantizes row-major `values` [rows, columns] (vector-wise: one scale per row).
    public init(quantizing values: [Float], rows: Int, columns: Int) throws(OpError) {
        guard rows >= 1, columns >= 1, values.count == rows * columns else {
            throw .shapeMismatch(op: "Int8Matrix", detail: "\(values.count) values for a [\(rows), \(columns)] matrix")
        }
        guard values.allSatisfy(\.isFinite) else {
            throw .invalidArgument(op: "Int8Matrix", detail: "cannot quantize NaN or infinite values")
        }
        var quants = [Int8](repeating: 0, count: values.count), scales = [Float](repeating: 0, count: rows)
        for row in 0..<rows {
            let slice = values[row * columns..<(row + 1) * columns]
            scales[row] = slice.reduce(Float(0)) { max($0, abs($1)) } / 127
            quants.replaceSubrange(row * columns..<(row + 1) * columns, with: int8Quantize(slice, scale: scales[row]))
        }
        self.rows = rows
        self.columns = columns
        self.quants = quants
        self.scales = scales
    }

    /// The matrix as floats, q·s.
    public func dequantized() -> [Float] {
        quants.indices.map { Float(quants[$0]) * scales[$0 / columns] }
    }
}

/// round(x / scale) clamped to ±127 (0 for a zero scale): the rounding the kernels use too.
func int8Quantize(_ values: some Collection<Float>, scale: Float) -> [Int8] {
    let inverse: Float = scale > 0 ? 1 / scale : 0
    return values.map { Int8(max(-127, min(127, ($0 * inverse).rounded()))) }
}
